import type { OverflowPolicy } from "@threadbus/core";
import {
  SLOT_CLOSING,
  SLOT_CONSUMED,
  SLOT_DELIVERED,
  SLOT_DROPPED,
  SLOT_SKIP_REQUESTED,
  SLOT_SKIPPED,
  type SlotPage,
  slotCounter,
  slotWord,
} from "../shm/delivery_layout.js";
import type { ThreadWriter } from "./thread_writer.js";

export interface SubscriptionSlotOptions {
  id: string;
  system: string;
  kind: string;
  path: string | null;
  overflow: OverflowPolicy;
  bufferSize: number;
  /** The subscribing thread's writer, and the slot there that this subscription holds. */
  thread: ThreadWriter;
  slot: number;
  /** The dispatcher's totals over every subscription, live or gone. */
  totals: { delivered: number; dropped: number };
}

/**
 * One subscription as the dispatcher sees it: its policy, its place on its thread (a slot), and
 * the counts that bound it. An event accepted for it (in its thread's ring, in the dispatcher's
 * backlog for that thread, or in its local queue) counts as pending until the thread reports it
 * consumed or skipped, so it never holds more than `bufferSize` events its consumer has not taken,
 * whatever its neighbours on the thread do. Only the dispatcher thread calls these methods.
 */
export class SubscriptionSlot {
  readonly id: string;
  readonly system: string;
  readonly kind: string;
  readonly path: string | null;
  readonly overflow: OverflowPolicy;
  readonly bufferSize: number;
  readonly thread: ThreadWriter;
  readonly slot: number;
  readonly totals: { delivered: number; dropped: number };
  delivered = 0;
  dropped = 0;
  /** drop-oldest: skips asked of the thread so far. */
  skips = 0;
  removed = false;
  /** On the dispatcher's list of subscriptions whose counters it publishes after the pass. */
  listed = false;
  #consumedSeen = 0;
  #skippedSeen = 0;
  readonly #words: Int32Array;
  readonly #counters: Float64Array;
  readonly #word: number;
  readonly #counter: number;

  constructor(options: SubscriptionSlotOptions, page: SlotPage) {
    this.id = options.id;
    this.system = options.system;
    this.kind = options.kind;
    this.path = options.path;
    this.overflow = options.overflow;
    this.bufferSize = options.bufferSize;
    this.thread = options.thread;
    this.slot = options.slot;
    this.totals = options.totals;
    this.#words = page.words;
    this.#counters = page.counters;
    this.#word = slotWord(this.slot, 0);
    this.#counter = slotCounter(this.slot, 0);
  }

  get client(): number {
    return this.thread.client;
  }

  /** Events accepted for this subscription that its consumer has neither taken nor been asked to skip. */
  get pending(): number {
    return this.#live(true);
  }

  /** True if one more event would exceed bufferSize (a closing subscription takes everything). */
  full(): boolean {
    if (this.#live(false) < this.bufferSize) return false;
    if (this.#live(true) < this.bufferSize) return false;
    return Atomics.load(this.#words, this.#word + SLOT_CLOSING) === 0;
  }

  /** An event was put in an entry for this subscription. */
  accepted(): void {
    this.delivered++;
    this.totals.delivered++;
  }

  countDrop(): void {
    this.dropped++;
    this.totals.dropped++;
  }

  /** drop-oldest on a full subscription: the oldest event not taken is dropped (the thread skips it). */
  dropOldest(): void {
    if (this.#live(true) <= 0) return;
    this.skips = (this.skips + 1) | 0;
    this.countDrop();
  }

  /** A send's signal aborted before it reached this subscription: counted here, not as a policy drop. */
  skipAborted(): void {
    this.dropped++;
  }

  /** Makes the counters visible to the subscription's thread (before the pass's entries are). */
  publishCounters(): void {
    const counters = this.#counters;
    counters[this.#counter + SLOT_DELIVERED] = this.delivered;
    counters[this.#counter + SLOT_DROPPED] = this.dropped;
    Atomics.store(this.#words, this.#word + SLOT_SKIP_REQUESTED, this.skips);
  }

  #live(fresh: boolean): number {
    if (fresh) {
      this.#consumedSeen = Atomics.load(this.#words, this.#word + SLOT_CONSUMED);
      this.#skippedSeen = Atomics.load(this.#words, this.#word + SLOT_SKIPPED);
    }
    // Skipped events count as consumed too; the skips still pending are not live any more.
    return ((this.delivered - this.#consumedSeen) | 0) - ((this.skips - this.#skippedSeen) | 0);
  }
}
