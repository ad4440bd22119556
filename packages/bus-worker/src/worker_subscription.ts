import type { MessagePort } from "node:worker_threads";
import type { BusEvent, Subscription, SubscriptionStats } from "@threadbus/core";
import type { BodyNames } from "./codec.js";
import type { CompiledDecoder } from "./data_codec.js";
import { DeliveryReader, deliveryBufferSize, deliveryCounters } from "./delivery.js";

/** What a subscription needs from the bus client that owns it. */
export interface SubscriptionOwner {
  unsubscribe(id: string): Promise<boolean>;
  forget(id: string): void;
  readonly names: BodyNames;
  /** The thread's compiled codecs (catalogued events); null without a catalogue. */
  readonly codecs: CompiledDecoder | null;
  wakeDispatcher(): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * A subscription as its thread sees it: events arrive in its delivery ring (delivery.ts) and are
 * taken from there only when its consumer asks, so the subscription never holds more than
 * `bufferSize` events its consumer has not taken. Two ways to consume, one at a time:
 * - `for await`: one promise per event (the language's), resolved at once while events wait;
 * - `nextBatch()`: every waiting event in one array, one promise per batch (the core Subscriber
 *   uses it).
 * After close() (or the bus's stop) the iterator yields what is already buffered, then ends.
 */
export class WorkerSubscription<D = unknown> implements Subscription<D> {
  readonly id: string;
  readonly system: string;
  readonly kind: string;
  readonly #ring: SharedArrayBuffer;
  readonly #reader: DeliveryReader;
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
  /** The dispatcher removed the subscription (its ring says when the last entry was read). */
  #removed = false;
  /** Ended locally: the bus failed or this thread left; the ring will not be read again. */
  #abandoned = false;
  #failure: unknown = undefined;
  #onEnd: Array<() => void> = [];

  constructor(
    id: string,
    system: string,
    kind: string,
    ring: SharedArrayBuffer,
    port: MessagePort,
    owner: SubscriptionOwner,
  ) {
    this.id = id;
    this.system = system;
    this.kind = kind;
    this.#ring = ring;
    this.#owner = owner;
    this.#reader = new DeliveryReader(ring, port, owner.names, owner.codecs, () => owner.wakeDispatcher());
    this.#reportEvery = Math.max(1, deliveryBufferSize(ring) >> 2);
  }

  get closed(): boolean {
    return this.#closing || this.#removed || this.#abandoned;
  }

  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.beginClose();
    this.#closePromise =
      this.#removed || this.#abandoned ? Promise.resolve() : this.#owner.unsubscribe(this.id).then(() => {});
    return this.#closePromise;
  }

  /**
   * The subscription is going (close(), or an unsubscribe of its id from this thread): from now
   * on it takes whatever is in flight, without the bufferSize limit, so the dispatcher never waits
   * on it while the unsubscribe travels.
   */
  beginClose(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#reader.close();
    void this.#drainWhileClosing();
  }

  /** Runs `callback` once the subscription has ended (e.g. to remove an abort listener). */
  onEnd(callback: () => void): void {
    if (this.#removed || this.#abandoned) callback();
    else this.#onEnd.push(callback);
  }

  /** The dispatcher removed this subscription (its control message says so): no entry will follow. */
  removed(): void {
    if (this.#removed) return;
    this.#removed = true;
    this.#ended();
  }

  /** The bus failed: the consumer gets what is buffered, then `error`. */
  fail(error: unknown): void {
    if (this.#abandoned) return;
    this.#failure = error;
    this.abandon();
  }

  /** This thread leaves the bus: the subscription ends after what it holds. */
  abandon(): void {
    if (this.#abandoned) return;
    this.#pull();
    this.#abandoned = true;
    this.#reader.interrupt();
    this.#ended();
  }

  stats(): SubscriptionStats {
    const { delivered, dropped, skips, backlogged } = deliveryCounters(this.#ring);
    return {
      delivered,
      received: this.#received,
      dropped,
      buffered: Math.max(0, delivered - skips - this.#received + backlogged),
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
        await this.#reader.wait();
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
        await this.#reader.wait();
      }
    } finally {
      this.#busy = false;
    }
  }

  #take(): BusEvent<D> | undefined {
    if (this.#reader.pendingSkips() > 0) this.#applySkips();
    if (this.#head === this.#queue.length && !this.#pull()) return undefined;
    const event = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined as unknown as BusEvent<D>;
    this.#consumed(1);
    return event;
  }

  #takeAll(): BusEvent<D>[] | null {
    if (this.#reader.pendingSkips() > 0) this.#applySkips();
    if (this.#head === this.#queue.length && !this.#pull()) return null;
    const batch = this.#head === 0 ? this.#queue : this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    this.#consumed(batch.length);
    return batch;
  }

  /** Drops the oldest events not taken yet, as many as drop-oldest asked for (they are counted already). */
  #applySkips(): void {
    const wanted = this.#reader.pendingSkips();
    let skipped = 0;
    while (skipped < wanted && (this.#head < this.#queue.length || this.#pull())) {
      this.#queue[this.#head++] = undefined as unknown as BusEvent<D>;
      skipped++;
    }
    this.#reader.skip(skipped);
  }

  /** Appends what waits in the ring to the queue; true if the queue now holds events. */
  #pull(): boolean {
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
    if (!this.#abandoned) this.#reader.read(this.#queue);
    return this.#head < this.#queue.length;
  }

  #consumed(count: number): void {
    this.#received += count;
    this.#unreported += count;
    if (this.#unreported >= this.#reportEvery || this.#head === this.#queue.length) {
      this.#reader.consume(this.#unreported);
      this.#unreported = 0;
    }
  }

  /** True once nothing more can arrive and the queue is empty. */
  #isOver(): boolean {
    if (this.#head < this.#queue.length) return false;
    if (this.#abandoned) return true;
    if (!this.#reader.ended) return false;
    if (this.#removed) this.#reader.dispose();
    else this.removed();
    return true;
  }

  /** What a read of an ended, empty subscription returns: its failure once, then `done`. */
  #settleEnd<R>(done: R): R {
    const failure = this.#failure;
    if (failure === undefined) return done;
    this.#failure = undefined;
    throw failure;
  }

  #ended(): void {
    this.#owner.forget(this.id);
    const callbacks = this.#onEnd;
    this.#onEnd = [];
    for (const callback of callbacks) callback();
    // The port carries the bytes of large events: it stays open until every entry was read.
    if (this.#abandoned || this.#reader.ended) this.#reader.dispose();
  }

  /** While closing, keeps the ring empty so the dispatcher never blocks on it. */
  async #drainWhileClosing(): Promise<void> {
    while (!this.#abandoned && !this.#reader.ended) {
      this.#pull();
      await this.#reader.wait();
    }
    this.#pull();
  }
}
