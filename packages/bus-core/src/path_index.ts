import type { IndexEntry } from "./subscription_index.js";

/**
 * Where a path glob can live in a PathBucket, read from its text once:
 * - `{ literal }`: no glob syntax, so on a plain path (see isPlainPath) it matches that string only;
 * - `{ prefix }`: its first segments are literal, so every plain path it matches starts with them;
 * - `null`: anything else, tested against every path.
 * Proven against minimatch itself by test/path_index.property.test.ts.
 */
export type PathShape = { readonly literal: string } | { readonly prefix: readonly string[] } | null;

/**
 * Characters with a meaning to minimatch in some position: a segment holding none of them is
 * plain text. `#` and `!` only count at the start and `+`/`@` only before `(`, but refusing them
 * anywhere only sends a few more globs to the scan, never a wrong answer.
 */
const GLOB_SYNTAX = /[*?[\]{}()!+@\\#|]/;

export function pathShape(glob: string): PathShape {
  // minimatch resolves `..` over the segment before it ("a/x/../b" matches "a/b"), braces can
  // spell one ("a/{..,x}"), and empty segments only match unplain paths: all of those scan.
  if (glob.includes("..")) return null;
  const segments = glob.split("/");
  if (segments.some((segment) => segment === "" || segment === ".")) return null;
  let literal = 0;
  while (literal < segments.length && !GLOB_SYNTAX.test(segments[literal]!)) literal++;
  if (literal === segments.length) return { literal: glob };
  return literal === 0 ? null : { prefix: segments.slice(0, literal) };
}

/**
 * True for a path minimatch reads segment by segment as written: not empty, no leading, trailing
 * or doubled `/`, no `.` or `..` segment. Other paths ("user//1" matches `user/1`) take the
 * bucket's full scan, so the index answers exactly what the filters would.
 */
export function isPlainPath(path: string): boolean {
  const length = path.length;
  let start = 0;
  for (let i = 0; i <= length; i++) {
    if (i < length && path.charCodeAt(i) !== 47) continue;
    const size = i - start;
    if (size === 0) return false;
    if (size <= 2 && path.charCodeAt(start) === 46 && (size === 1 || path.charCodeAt(start + 1) === 46))
      return false;
    start = i + 1;
  }
  return true;
}

const EMPTY: readonly never[] = Object.freeze([]);

/** Restores subscription order after lists were merged. */
export function bySeq<T>(a: IndexEntry<T>, b: IndexEntry<T>): number {
  return a.seq - b.seq;
}

/** A copy of `list` without `item`: arrays handed to callers are never changed in place. */
function without<T>(list: readonly T[], item: T): T[] {
  const at = list.indexOf(item);
  if (at === -1) return list as T[];
  return list.slice(0, at).concat(list.slice(at + 1));
}

/** A node of the literal-prefix trie: one path segment deeper than its parent. */
class PrefixNode<T> {
  readonly children = new Map<string, PrefixNode<T>>();
  /** Globs whose literal prefix ends here; each still tests the rest of the path. */
  entries: IndexEntry<T>[] = [];
}

/**
 * The entries that share one (system pattern, kind pattern) slot of the index, split by their path
 * filter so an event's path is looked up, not scanned: no filter (every path), literal paths in a
 * hash map, globs with literal leading segments in a segment trie, and the rest in a list that is
 * scanned. Each list keeps subscription order.
 *
 * Lists handed out by `matching()` are never changed in place: a removal replaces the list, an
 * add appends to it. So a caller that keeps one across a change sees no entry move, at worst
 * later ones at its end.
 */
export class PathBucket<T> {
  size = 0;
  /** No path filter: they match every path. */
  unfiltered: IndexEntry<T>[] = [];
  readonly #literal = new Map<string, IndexEntry<T>[]>();
  readonly #prefixes = new PrefixNode<T>();
  #prefixed = 0;
  #scanned: IndexEntry<T>[] = [];

  add(entry: IndexEntry<T>): void {
    this.size++;
    const shape = entry.path === null ? undefined : pathShape(entry.path.source);
    if (shape === undefined) this.unfiltered.push(entry);
    else if (shape === null) this.#scanned.push(entry);
    else if ("literal" in shape) {
      const list = this.#literal.get(shape.literal);
      if (list === undefined) this.#literal.set(shape.literal, [entry]);
      else list.push(entry);
    } else {
      let node = this.#prefixes;
      for (const segment of shape.prefix) {
        let child = node.children.get(segment);
        if (child === undefined) {
          child = new PrefixNode<T>();
          node.children.set(segment, child);
        }
        node = child;
      }
      node.entries.push(entry);
      this.#prefixed++;
    }
  }

  /** Removes `entry` (added before with the same filter); prunes prefix nodes left empty. */
  remove(entry: IndexEntry<T>): void {
    this.size--;
    const shape = entry.path === null ? undefined : pathShape(entry.path.source);
    if (shape === undefined) this.unfiltered = without(this.unfiltered, entry);
    else if (shape === null) this.#scanned = without(this.#scanned, entry);
    else if ("literal" in shape) {
      const list = this.#literal.get(shape.literal);
      if (list === undefined) return;
      if (list.length === 1 && list[0] === entry) this.#literal.delete(shape.literal);
      else this.#literal.set(shape.literal, without(list, entry));
    } else {
      const trail: PrefixNode<T>[] = [this.#prefixes];
      for (const segment of shape.prefix) {
        const child = trail[trail.length - 1]!.children.get(segment);
        if (child === undefined) return;
        trail.push(child);
      }
      const node = trail[trail.length - 1]!;
      node.entries = without(node.entries, entry);
      this.#prefixed--;
      for (let depth = shape.prefix.length; depth > 0; depth--) {
        const at = trail[depth]!;
        if (at.entries.length > 0 || at.children.size > 0) break;
        trail[depth - 1]!.children.delete(shape.prefix[depth - 1]!);
      }
    }
  }

  /** Every entry, whatever its path filter (in no particular order). */
  pushAll(out: IndexEntry<T>[]): void {
    for (const entry of this.unfiltered) out.push(entry);
    for (const list of this.#literal.values()) for (const entry of list) out.push(entry);
    for (const entry of this.#scanned) out.push(entry);
    if (this.#prefixed > 0) pushTrie(this.#prefixes, out);
  }

  /**
   * The entries whose path filter matches `path`, in subscription order. When one list answers
   * (only unfiltered entries, or only literal paths) it is returned itself: no allocation.
   */
  matching(path: string): readonly IndexEntry<T>[] {
    const unfiltered = this.unfiltered;
    if (unfiltered.length === this.size) return unfiltered;
    const literalOnly = unfiltered.length === 0 && this.#prefixed === 0 && this.#scanned.length === 0;
    if (literalOnly) {
      // A key is a literal glob, itself a plain path: a hit needs no isPlainPath check.
      const hit = this.#literal.get(path);
      if (hit !== undefined) return hit;
    }
    const plain = isPlainPath(path);
    if (plain && literalOnly) return EMPTY;
    const out: IndexEntry<T>[] = [];
    this.collect(path, out, plain);
    if (out.length > 1) out.sort(bySeq);
    return out;
  }

  /** Pushes the entries whose path filter matches `path`, each list in order (merge, then sort). */
  collect(path: string, out: IndexEntry<T>[], plain = isPlainPath(path)): void {
    for (const entry of this.unfiltered) out.push(entry);
    if (!plain) {
      // minimatch reads "user//1/" like "user/1": such a path meets every filter, as before the index.
      const filtered: IndexEntry<T>[] = [];
      for (const list of this.#literal.values()) for (const entry of list) filtered.push(entry);
      for (const entry of this.#scanned) filtered.push(entry);
      if (this.#prefixed > 0) pushTrie(this.#prefixes, filtered);
      for (const entry of filtered) if (entry.path!.match(path)) out.push(entry);
      return;
    }
    const literal = this.#literal.get(path);
    if (literal !== undefined) for (const entry of literal) out.push(entry);
    if (this.#prefixed > 0) this.#collectPrefixed(path, out);
    for (const entry of this.#scanned) if (entry.path!.match(path)) out.push(entry);
  }

  /** Follows the path's segments down the prefix trie, testing the globs met on the way. */
  #collectPrefixed(path: string, out: IndexEntry<T>[]): void {
    let node = this.#prefixes;
    let start = 0;
    while (start <= path.length) {
      const slash = path.indexOf("/", start);
      const end = slash === -1 ? path.length : slash;
      const child = node.children.get(path.slice(start, end));
      if (child === undefined) return;
      node = child;
      for (const entry of node.entries) if (entry.path!.match(path)) out.push(entry);
      start = end + 1;
    }
  }
}

function pushTrie<T>(node: PrefixNode<T>, out: IndexEntry<T>[]): void {
  for (const entry of node.entries) out.push(entry);
  for (const child of node.children.values()) pushTrie(child, out);
}
