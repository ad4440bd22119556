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
  readonly #page: SlotPage;

  constructor(options: SubscriptionSlotOptions, page: SlotPage) {
    this.id = options.id;
    this.overflow = options.overflow;
    this.bufferSize = options.bufferSize;
    this.thread = options.thread;
    this.slot = options.slot;
    this.totals = options.totals;
    this.#page = page;
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
    return Atomics.load(this.#page.words, slotWord(this.slot, SLOT_CLOSING)) === 0;
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
    const { counters, words } = this.#page;
    const at = slotCounter(this.slot, 0);
    counters[at + SLOT_DELIVERED] = this.delivered;
    counters[at + SLOT_DROPPED] = this.dropped;
    Atomics.store(words, slotWord(this.slot, SLOT_SKIP_REQUESTED), this.skips);
  }

  #live(fresh: boolean): number {
    if (fresh) {
      const words = this.#page.words;
      const at = slotWord(this.slot, 0);
      this.#consumedSeen = Atomics.load(words, at + SLOT_CONSUMED);
      this.#skippedSeen = Atomics.load(words, at + SLOT_SKIPPED);
    }
    // Skipped events count as consumed too; the skips still pending are not live any more.
    return ((this.delivered - this.#consumedSeen) | 0) - ((this.skips - this.#skippedSeen) | 0);
  }
}
