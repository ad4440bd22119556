/**
 * Import side of the `seq` field: remembers the last sequence number seen per (origin, subject).
 * NATS keeps one publisher's order on one subject, so a jump forward is a count of events lost on
 * the way (a server restart, a slow-consumer cut), and a number at or below the last one is a
 * duplicate (the same message matched two of the importer's subscriptions).
 *
 * Memory is bounded: past `capacity` keys the oldest key is forgotten; its next event then starts
 * tracking afresh (no gap is counted for it), which never turns a real event into a duplicate.
 */
export type SequenceVerdict = "next" | "duplicate";

export class SequenceTracker {
  readonly #last = new Map<string, number>();
  readonly #capacity: number;
  /** Events announced by a gap and never received. */
  lost = 0;
  duplicates = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  observe(origin: string, subject: string, seq: number): SequenceVerdict {
    if (seq === 0) return "next";
    const key = `${origin} ${subject}`;
    const last = this.#last.get(key);
    if (last === undefined) {
      if (this.#last.size >= this.#capacity) {
        const oldest = this.#last.keys().next().value;
        if (oldest !== undefined) this.#last.delete(oldest);
      }
      this.#last.set(key, seq);
      return "next";
    }
    if (seq <= last) {
      this.duplicates++;
      return "duplicate";
    }
    this.lost += seq - last - 1;
    this.#last.set(key, seq);
    return "next";
  }

  get size(): number {
    return this.#last.size;
  }
}
