import type { BusEvent, Subscription, SubscriptionStats } from "@threadbus/core";
import type { CompiledDecoder } from "./data_codec.js";
import { DataSampler } from "./delivery/event_builder.js";
import type { DeliveryTarget, SlotCounters, ThreadReader } from "./delivery/thread_reader.js";
import { SLOT_SKIP_REQUESTED, SLOT_SKIPPED } from "./shm/delivery_layout.js";

/** What a subscription needs from the bus client that owns it. */
export interface SubscriptionOwner {
  unsubscribe(id: string): Promise<boolean>;
  forget(id: string): void;
  /** The thread's compiled codecs (catalogued events); null without a catalogue. */
  readonly codecs: CompiledDecoder | null;
}

export interface WorkerSubscriptionOptions {
  id: string;
  system: string;
  kind: string;
  bufferSize: number;
  thread: ThreadReader;
  owner: SubscriptionOwner;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * A subscription as its thread sees it. Its events arrive through the thread's one delivery ring
 * (delivery/thread_reader.ts fans them out into this subscription's local queue) and are handed
 * out only when its consumer asks; the dispatcher counts what it accepted for this subscription
 * against what the consumer took, so it never holds more than `bufferSize` events its consumer
 * has not taken. Two ways to consume, one at a time:
 * - `for await`: one promise per event (the language's), resolved at once while events wait;
 * - `nextBatch()`: every waiting event in one array, one promise per batch (the core Subscriber
 *   uses it).
 * After close() (or the bus's stop) the iterator yields what is already buffered, then ends.
 */
export class WorkerSubscription<D = unknown> implements Subscription<D>, DeliveryTarget {
  readonly id: string;
  readonly system: string;
  readonly kind: string;
  touched = false;
  readonly #thread: ThreadReader;
  readonly #slot: number;
  /** The slot's shared words, kept: drop-oldest's skip requests are looked at before every take. */
  readonly #slotWords: Int32Array;
  readonly #slotBase: number;
  readonly #owner: SubscriptionOwner;
  /** Events taken from the ring and not yet handed to the consumer. */
  #queue: BusEvent<D>[] = [];
  #head = 0;
  #received = 0;
  /** Consumed events not yet reported to the dispatcher; reported in bursts (low watermark). */
  #unreported = 0;
  readonly #reportEvery: number;
  #busy = false;
  #iterated = false;
  #closing = false;
  #closePromise: Promise<void> | null = null;
  /** The dispatcher ended the subscription (its END entry was read): nothing more arrives. */
  #ended = false;
  /** Ended locally: the bus failed or this thread left; the ring will not be read again for it. */
  #abandoned = false;
  /** The counters as the subscription ended (its slot is reused after). */
  #final: SlotCounters | null = null;
  #failure: unknown = undefined;
  #onEnd: Array<() => void> | null = null;

  constructor(options: WorkerSubscriptionOptions) {
    this.id = options.id;
    this.system = options.system;
    this.kind = options.kind;
    this.#owner = options.owner;
    this.#thread = options.thread;
    this.#slot = options.thread.register(this);
    const { words, base } = options.thread.slotWords(this.#slot);
    this.#slotWords = words;
    this.#slotBase = base;
    this.#reportEvery = Math.max(1, options.bufferSize >> 2);
  }

  /** Made with the first event: an idle subscription does not pay for it. */
  #sampler: DataSampler | null = null;

  get sampler(): DataSampler {
    this.#sampler ??= new DataSampler(this.#owner.codecs);
    return this.#sampler;
  }

  /** This subscription's slot on its thread (delivery/thread_reader.ts). */
  get slot(): number {
    return this.#slot;
  }

  /** The dispatcher refused the subscribe: the slot was never used there and is given back. */
  discard(): void {
    this.#abandoned = true;
    this.#thread.release(this.#slot);
  }

  get closed(): boolean {
    return this.#closing || this.#ended || this.#abandoned;
  }

  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.beginClose();
    this.#closePromise =
      this.#ended || this.#abandoned ? Promise.resolve() : this.#owner.unsubscribe(this.id).then(() => {});
    return this.#closePromise;
  }

  /**
   * The subscription is going (close(), or an unsubscribe of its id from this thread): from now
   * on it takes whatever is in flight, without the bufferSize limit, so the dispatcher never waits
   * on it while the unsubscribe travels.
   */
  beginClose(): void {
    if (this.#closing || this.#ended || this.#abandoned) return;
    this.#closing = true;
    this.#thread.close(this.#slot);
    void this.#drainWhileClosing();
  }

  /** Runs `callback` once the subscription has ended (e.g. to remove an abort listener). */
  onEnd(callback: () => void): void {
    if (this.#ended || this.#abandoned) callback();
    else if (this.#onEnd === null) this.#onEnd = [callback];
    else this.#onEnd.push(callback);
  }

  // DeliveryTarget
  push(event: BusEvent): void {
    this.#queue.push(event as BusEvent<D>);
  }

  endOfEntries(): void {
    if (this.#ended || this.#abandoned) return;
    this.#final = this.#thread.counters(this.#slot);
    // Every entry for it came before its END: skips still asked for apply to what the queue holds.
    for (
      let skips = this.#thread.pendingSkips(this.#slot);
      skips > 0 && this.#head < this.#queue.length;
      skips--
    )
      this.#queue[this.#head++] = undefined as unknown as BusEvent<D>;
    this.#ended = true;
    this.#thread.release(this.#slot);
    this.#settle();
  }

  /** The bus failed: the consumer gets what is buffered, then `error`. */
  fail(error: unknown): void {
    if (this.#abandoned || this.#ended) {
      this.#abandoned = true;
      return;
    }
    this.#failure = error;
    this.abandon();
  }

  /** This thread leaves the bus: the subscription ends after what it holds. */
  abandon(): void {
    if (this.#abandoned) return;
    this.#pull();
    if (this.#ended) return;
    this.#final = this.#thread.counters(this.#slot);
    this.#abandoned = true;
    this.#settle();
  }

  stats(): SubscriptionStats {
    const { delivered, dropped, skips } = this.#final ?? this.#thread.counters(this.#slot);
    return {
      delivered,
      received: this.#received,
      dropped,
      buffered: Math.max(0, delivered - skips - this.#received),
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<BusEvent<D>> {
    if (this.#iterated) throw new TypeError(`subscription ${this.id} is already being iterated`);
    this.#iterated = true;
    return {
      next: () => {
        if (this.#busy)
          return Promise.reject(new TypeError("next() called while a previous next() is pending"));
        const event = this.#take();
        return event !== undefined ? Promise.resolve({ done: false, value: event }) : this.#nextSlow();
      },
      return: async () => {
        await this.close();
        return DONE;
      },
    };
  }

  /**
   * Every waiting event at once, waiting for at least one; null once the subscription ended (or
   * its end error, once). Use either this or the iterator.
   */
  nextBatch(): Promise<BusEvent<D>[] | null> {
    this.#iterated = true;
    if (this.#busy)
      return Promise.reject(new TypeError("nextBatch() called while a previous one is pending"));
    const batch = this.#takeAll();
    return batch !== null ? Promise.resolve(batch) : this.#nextBatchSlow();
  }

  async #nextSlow(): Promise<IteratorResult<BusEvent<D>>> {
    this.#busy = true;
    try {
      for (;;) {
        const event = this.#take();
        if (event !== undefined) return { done: false, value: event };
        if (this.#isOver()) return this.#settleEnd(DONE);
        await this.#thread.wait(this);
      }
    } finally {
      this.#busy = false;
    }
  }

  async #nextBatchSlow(): Promise<BusEvent<D>[] | null> {
    this.#busy = true;
    try {
      for (;;) {
        const batch = this.#takeAll();
        if (batch !== null) return batch;
        if (this.#isOver()) return this.#settleEnd(null);
        await this.#thread.wait(this);
      }
    } finally {
      this.#busy = false;
    }
  }

  /** True if drop-oldest asked for skips not applied yet. */
  #skipsWanted(): boolean {
    const words = this.#slotWords;
    const base = this.#slotBase;
    return Atomics.load(words, base + SLOT_SKIP_REQUESTED) !== words[base + SLOT_SKIPPED] && this.#live;
  }

  #take(): BusEvent<D> | undefined {
    if (this.#skipsWanted()) this.#applySkips();
    if (this.#head === this.#queue.length && !this.#pull()) return undefined;
    const event = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined as unknown as BusEvent<D>;
    this.#consumed(1);
    return event;
  }

  #takeAll(): BusEvent<D>[] | null {
    if (this.#skipsWanted()) this.#applySkips();
    if (this.#head === this.#queue.length && !this.#pull()) return null;
    const batch = this.#head === 0 ? this.#queue : this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    this.#consumed(batch.length);
    return batch;
  }

  /** True while the slot is this subscription's (not ended or abandoned). */
  get #live(): boolean {
    return !this.#ended && !this.#abandoned;
  }

  /** Drops the oldest events not taken yet, as many as drop-oldest asked for (they are counted already). */
  #applySkips(): void {
    let left = this.#thread.pendingSkips(this.#slot);
    while (left > 0 && this.#live) {
      let skipped = 0;
      while (skipped < left && this.#head < this.#queue.length) {
        this.#queue[this.#head++] = undefined as unknown as BusEvent<D>;
        skipped++;
      }
      // Reported before the next pull: a pull that reads the END applies what is still asked.
      if (skipped > 0) this.#thread.skip(this.#slot, skipped);
      left -= skipped;
      if (left === 0 || !this.#pull()) break;
    }
  }

  /** Appends what waits in the thread's ring to the queues; true if this queue now holds events. */
  #pull(): boolean {
    if (this.#head === this.#queue.length && this.#head > 0) {
      this.#queue = [];
      this.#head = 0;
    }
    if (this.#live) this.#thread.drain();
    return this.#head < this.#queue.length;
  }

  #consumed(count: number): void {
    this.#received += count;
    if (!this.#live) return;
    this.#unreported += count;
    if (this.#unreported >= this.#reportEvery || this.#head === this.#queue.length) {
      this.#thread.consume(this.#slot, this.#unreported);
      this.#unreported = 0;
    }
  }

  /** True once nothing more can arrive and the queue is empty. */
  #isOver(): boolean {
    return this.#head === this.#queue.length && !this.#live;
  }

  /** What a read of an ended, empty subscription returns: its failure once, then `done`. */
  #settleEnd<R>(done: R): R {
    const failure = this.#failure;
    if (failure === undefined) return done;
    this.#failure = undefined;
    throw failure;
  }

  #settle(): void {
    this.#owner.forget(this.id);
    const callbacks = this.#onEnd;
    this.#onEnd = null;
    if (callbacks !== null) for (const callback of callbacks) callback();
  }

  /** While closing, keeps this thread's ring drained until the subscription's END arrives. */
  async #drainWhileClosing(): Promise<void> {
    while (this.#live) {
      this.#pull();
      if (!this.#live) break;
      await this.#thread.wait(this);
    }
  }
}
