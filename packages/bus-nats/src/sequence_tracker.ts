/**
 * Import side of the sequence numbers: one stream per (origin, epoch, subject). NATS keeps one
 * publisher's order on one subject, so a jump forward counts events lost on the way (a server
 * restart, a broken link), and numbers already seen are duplicates (a message that matched two of
 * the importer's subscriptions arrives twice).
 *
 * The numbers come from the network, so nothing here trusts them beyond a window:
 * - a forward jump of at most `window` numbers adds them to `lost` and remembers them as a hole;
 *   a later message filling a hole is delivered (late, not a duplicate) and takes its events
 *   back out of `lost`;
 * - a jump of more than `window`, forward or back, cannot be told from a forged or confused
 *   number: it is counted once in `resyncs`, adds nothing to `lost`, and the stream starts over
 *   from the new number. So `{ seq: 1e15 }` costs one resync, and the real stream's next message
 *   (far behind it) costs another and is delivered: a stream is never silenced;
 * - at most `maxHoles` holes per stream: past it the two oldest merge (numbers between them that
 *   were seen become acceptable again, which only a replay could notice).
 * One message carrying n events therefore moves `lost` up by at most `window` or down by at most
 * n, `duplicates` by at most n, `resyncs` by at most 1, and can hide at most the n real events
 * whose numbers it takes.
 *
 * Memory is bounded: at most `capacity` streams, the least recently heard from forgotten first;
 * a forgotten stream's next message starts it afresh (no gap counted, never a duplicate).
 */

/** Which events of a message to deliver: all, none (duplicates), or per event. */
export type Verdict = "all" | "none" | readonly boolean[];

interface Stream {
  /** The highest number seen. */
  high: number;
  /** Numbers counted lost that may still arrive: [from, to] inclusive pairs, ascending, flat. */
  holes: number[];
}

export interface SequenceTrackerOptions {
  /** Streams remembered at most. */
  readonly capacity: number;
  /** The largest jump counted as loss; beyond it, a resync. */
  readonly window: number;
  /** Holes remembered per stream. Default 16. */
  readonly maxHoles?: number;
}

export class SequenceTracker {
  readonly #streams = new Map<string, Stream>();
  readonly #capacity: number;
  readonly #window: number;
  readonly #maxHoles: number;
  /** Events announced by a gap (or a heartbeat) and not received. */
  lost = 0;
  /** Events received again and skipped. */
  duplicates = 0;
  /** Jumps beyond the window, each counted once; tracking started over. */
  resyncs = 0;

  constructor(options: SequenceTrackerOptions) {
    this.#capacity = options.capacity;
    this.#window = options.window;
    this.#maxHoles = options.maxHoles ?? 16;
  }

  /** The key of a stream; subjects hold no spaces and epochs are numbers, so it is unambiguous. */
  static key(subject: string, epoch: number, origin: string): string {
    return `${subject} ${epoch} ${origin}`;
  }

  /**
   * Takes a message of `count` events numbered `last - count + 1 .. last` (a heartbeat: count 0,
   * `last` = the last number sent) and says which of its events to deliver. `last` 0 = unnumbered.
   */
  observe(key: string, last: number, count: number): Verdict {
    if (last === 0) return "all";
    const stream = this.#streams.get(key);
    if (stream === undefined) {
      this.#remember(key, { high: last, holes: [] });
      return "all";
    }
    // Least recently used goes first: re-inserting moves this stream to the end.
    this.#streams.delete(key);
    this.#streams.set(key, stream);
    const first = last - count + 1;
    if (first > stream.high) {
      this.#advance(stream, first, last);
      return "all";
    }
    if (stream.high - first >= this.#window) {
      this.#resync(stream, last);
      return "all";
    }
    if (count === 0) return "all";
    return this.#behind(stream, first, last, count);
  }

  get size(): number {
    return this.#streams.size;
  }

  #remember(key: string, stream: Stream): void {
    if (this.#streams.size >= this.#capacity) {
      const oldest = this.#streams.keys().next().value;
      if (oldest !== undefined) this.#streams.delete(oldest);
    }
    this.#streams.set(key, stream);
  }

  /** Numbers beyond the highest: in order, or after a gap. */
  #advance(stream: Stream, first: number, last: number): void {
    const gap = first - stream.high - 1;
    if (gap > this.#window) {
      this.#resync(stream, last);
      return;
    }
    if (gap > 0) {
      this.lost += gap;
      this.#addHole(stream, stream.high + 1, first - 1);
    }
    stream.high = last;
    const floor = last - this.#window;
    const holes = stream.holes;
    // Holes that fell out of the window are lost for good: a message that old is a resync.
    while (holes.length > 0 && holes[1]! <= floor) holes.splice(0, 2);
  }

  #resync(stream: Stream, last: number): void {
    this.resyncs++;
    stream.high = last;
    stream.holes = [];
  }

  #addHole(stream: Stream, from: number, to: number): void {
    const holes = stream.holes;
    if (holes.length >= this.#maxHoles * 2) holes.splice(1, 2); // [a, b], [c, d] -> [a, d]
    holes.push(from, to);
  }

  /** Some numbers at or below the highest: duplicates, unless they fill a hole. */
  #behind(stream: Stream, first: number, last: number, count: number): Verdict {
    const high = stream.high;
    if (stream.holes.length === 0 && last <= high) {
      // The common duplicate: the same message through a second subscription.
      this.duplicates += count;
      return "none";
    }
    const deliver = new Array<boolean>(count).fill(false);
    let delivered = 0;
    for (let seq = Math.max(first, high + 1); seq <= last; seq++) {
      deliver[seq - first] = true;
      delivered++;
    }
    const to = Math.min(last, high);
    const kept: number[] = [];
    const holes = stream.holes;
    for (let i = 0; i < holes.length; i += 2) {
      const a = holes[i]!;
      const b = holes[i + 1]!;
      if (b < first || a > to) {
        kept.push(a, b);
        continue;
      }
      const x = Math.max(a, first);
      const y = Math.min(b, to);
      for (let seq = x; seq <= y; seq++) deliver[seq - first] = true;
      delivered += y - x + 1;
      this.lost -= y - x + 1;
      if (a < x) kept.push(a, x - 1);
      if (y < b) kept.push(y + 1, b);
    }
    stream.holes = kept;
    stream.high = Math.max(high, last);
    this.duplicates += count - delivered;
    if (delivered === count) return "all";
    return delivered === 0 ? "none" : deliver;
  }
}
