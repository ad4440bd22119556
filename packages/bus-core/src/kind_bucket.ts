import { PathBucket } from "./path_index.js";
import type { Pattern } from "./pattern.js";
import type { IndexEntry } from "./subscription_index.js";

/**
 * Holds the entries that share one system pattern slot, split by kind so matching a kind does not
 * scan every entry: literal kinds in a map, wildcard kinds grouped by pattern, "every kind" apart.
 * Each group is a PathBucket, which splits its entries again by path filter.
 */
export class KindBucket<T> {
  readonly everyKind = new PathBucket<T>();
  readonly literalKinds = new Map<string, PathBucket<T>>();
  readonly wildcardKinds = new Map<string, { pattern: Pattern; bucket: PathBucket<T> }>();
  size = 0;

  add(entry: IndexEntry<T>): void {
    this.size++;
    const kind = entry.kind;
    if (kind === null) this.everyKind.add(entry);
    else if (kind.isLiteral) {
      let bucket = this.literalKinds.get(kind.source);
      if (!bucket) {
        bucket = new PathBucket<T>();
        this.literalKinds.set(kind.source, bucket);
      }
      bucket.add(entry);
    } else {
      let group = this.wildcardKinds.get(kind.source);
      if (!group) {
        group = { pattern: kind, bucket: new PathBucket<T>() };
        this.wildcardKinds.set(kind.source, group);
      }
      group.bucket.add(entry);
    }
  }

  remove(entry: IndexEntry<T>): void {
    this.size--;
    const kind = entry.kind;
    if (kind === null) this.everyKind.remove(entry);
    else if (kind.isLiteral) {
      const bucket = this.literalKinds.get(kind.source);
      bucket?.remove(entry);
      if (bucket?.size === 0) this.literalKinds.delete(kind.source);
    } else {
      const group = this.wildcardKinds.get(kind.source);
      group?.bucket.remove(entry);
      if (group?.bucket.size === 0) this.wildcardKinds.delete(kind.source);
    }
  }

  /** Pushes the path buckets whose kind pattern matches `kind`. */
  collect(kind: string, kindSegments: readonly string[], out: PathBucket<T>[]): void {
    if (this.everyKind.size > 0) out.push(this.everyKind);
    const literal = this.literalKinds.get(kind);
    if (literal) out.push(literal);
    for (const { pattern, bucket } of this.wildcardKinds.values()) {
      if (pattern.matchSegments(kindSegments)) out.push(bucket);
    }
  }
}
