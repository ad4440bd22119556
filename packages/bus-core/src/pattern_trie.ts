import type { KindBucket } from "./kind_bucket.js";

/** A node of the segment trie for wildcard system patterns. */
export class TrieNode<T> {
  /**
   * True for the node a `**` segment leads to: the walk may stay on it while it consumes further
   * value segments (the `**` matching more than one), as well as leave it through its children.
   */
  readonly selfLoop: boolean;
  /** The walk step that last put this node in an active set: dedupes the set without a Set. */
  mark = 0;
  readonly literal = new Map<string, TrieNode<T>>();
  one: TrieNode<T> | null = null;
  any: TrieNode<T> | null = null;
  /** Alternations, keyed by their source text so `(a|b)` in two patterns shares one node. */
  readonly oneOf = new Map<string, { options: ReadonlySet<string>; node: TrieNode<T> }>();
  /** Entries whose system pattern ends at this node. */
  bucket: KindBucket<T> | null = null;

  constructor(selfLoop = false) {
    this.selfLoop = selfLoop;
  }

  get empty(): boolean {
    return (
      this.bucket === null &&
      this.one === null &&
      this.any === null &&
      this.literal.size === 0 &&
      this.oneOf.size === 0
    );
  }
}

/**
 * One step's set of trie nodes in the walk, reused from lookup to lookup. A node is in the set
 * when its mark is the step's number, so adding is one compare; clear() drops the references
 * (no pruned node stays reachable from here) without shrinking the array, which `length = 0`
 * does at a cost that showed in profiles of the uncached lookup.
 */
export class NodeSet<T> {
  readonly nodes: (TrieNode<T> | null)[] = [];
  size = 0;

  /** Adds `node`, and the `**` child behind it: a `**` may match zero segments. */
  add(node: TrieNode<T>, step: number): void {
    for (let at: TrieNode<T> | null = node; at !== null && at.mark !== step; at = at.any) {
      at.mark = step;
      this.nodes[this.size++] = at;
    }
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) this.nodes[i] = null;
    this.size = 0;
  }
}
