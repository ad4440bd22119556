import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import {
  BufferedSubscription,
  type BusEvent,
  MAX_BUFFER_SIZE,
  type OverflowPolicy,
  type Subscription,
  type SubscriptionStats,
} from "@threadbus/core";
import { readBatch } from "./batch.js";
import type { EndMessage } from "./protocol.js";

/** What a subscription needs from the bus client that owns it. */
export interface SubscriptionOwner {
  unsubscribe(id: string): Promise<boolean>;
  /** The dispatcher's drops and deliveries for the subscription in `slot`, from shared memory. */
  dispatcherCounters(slot: number): { dropped: number; delivered: number };
  /** Counts drops made on this thread (drop-oldest evictions) in the shared stats. */
  countDropped(count: number): void;
  forget(id: string): void;
}

/**
 * A subscription as its thread sees it: batches arrive on its own MessagePort and are decoded into
 * a core BufferedSubscription (same iterator semantics as the in-thread Bus). Consumed events go
 * back to the dispatcher as credits, half a buffer at a time, so a "block" subscriber never holds
 * more than bufferSize events and never starves (it returns credit before it can run dry).
 */
export class WorkerSubscription<D = unknown> implements Subscription<D> {
  readonly #inner: BufferedSubscription<D>;
  readonly #port: MessagePort;
  readonly #owner: SubscriptionOwner;
  readonly #overflow: OverflowPolicy;
  readonly #creditEvery: number;
  #slot = -1;
  #returned = 0;
  /** Events handed to the inner buffer (an upper bound of those consumed). */
  #offered = 0;
  /** The dispatcher's counters once the subscription ended (its slot may be reused after). */
  #final: { dropped: number; delivered: number } | null = null;
  readonly #onMessage = (message: Uint8Array | EndMessage) => this.#handle(message);
  readonly #onEvent = (system: string, kind: string, path: string, data: unknown, hasData: boolean) => {
    this.#offered++;
    this.#inner.offer((hasData ? { system, kind, path, data } : { system, kind, path }) as BusEvent<D>);
  };

  constructor(
    id: string,
    system: string,
    kind: string,
    bufferSize: number,
    overflow: OverflowPolicy,
    port: MessagePort,
    owner: SubscriptionOwner,
  ) {
    this.#overflow = overflow;
    this.#creditEvery = Math.max(1, Math.ceil(bufferSize / 2));
    this.#port = port;
    this.#owner = owner;
    // The dispatcher enforces bufferSize with credits for "block" and "drop-newest"; only
    // "drop-oldest" needs the local buffer bounded (the oldest events are here).
    const local =
      overflow === "drop-oldest" ? { bufferSize, overflow } : { bufferSize: MAX_BUFFER_SIZE, overflow };
    this.#inner = new BufferedSubscription<D>(id, system, kind, local, () => this.#close());
    port.on("message", this.#onMessage);
  }

  /** Called once the dispatcher applied the subscribe. */
  activate(slot: number): void {
    this.#slot = slot;
  }

  get id(): string {
    return this.#inner.id;
  }

  get system(): string {
    return this.#inner.system;
  }

  get kind(): string {
    return this.#inner.kind;
  }

  get closed(): boolean {
    return this.#inner.closed;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /**
   * Exact as of the dispatcher's progress: `delivered` and dispatcher-side drops come from shared
   * memory, and events posted but not yet taken off the port count as buffered.
   */
  stats(): SubscriptionStats {
    this.drain();
    const local = this.#inner.stats();
    const remote = this.#final ?? this.#remote();
    const inFlight = Math.max(0, remote.delivered - local.delivered);
    return {
      delivered: Math.max(remote.delivered, local.delivered),
      received: local.received,
      dropped: local.dropped + remote.dropped,
      buffered: local.buffered + inFlight,
    };
  }

  #remote(): { dropped: number; delivered: number } {
    return this.#slot >= 0 ? this.#owner.dispatcherCounters(this.#slot) : { dropped: 0, delivered: 0 };
  }

  /** Takes every batch already posted to this subscription, synchronously. */
  drain(): void {
    if (this.#final !== null) return;
    for (let m = receiveMessageOnPort(this.#port); m !== undefined; m = receiveMessageOnPort(this.#port))
      this.#handle(m.message as Uint8Array | EndMessage);
  }

  /** Ends the iterator: it yields what is buffered, then ends (or throws `error`). */
  end(error?: unknown, final?: { dropped: number; delivered: number }): void {
    if (this.#final !== null) return;
    this.#final = final ?? this.#remote();
    this.#port.off("message", this.#onMessage);
    this.#port.close();
    this.#owner.forget(this.id);
    this.#inner.end(error);
  }

  /** Lifts the credit limit at the dispatcher (closing: deliver what is in flight, then end). */
  releaseDispatcher(): void {
    this.#port.postMessage("closing");
  }

  [Symbol.asyncIterator](): AsyncIterator<BusEvent<D>> {
    const iterator = this.#inner[Symbol.asyncIterator]();
    const counted = this.#overflow !== "drop-oldest";
    return {
      next: () => {
        // An event taken from the buffer is counted at once; one handed to a waiting consumer is
        // counted when its batch is read (#handle). No promise per event is spent on credits.
        const next = iterator.next();
        if (counted) this.#returnCredits();
        return next;
      },
      return: () => iterator.return!(),
    };
  }

  /**
   * Every buffered event at once (the core Subscriber's fast path: one promise per batch, and a
   * delivered batch usually lands whole). Credits are returned as for the iterator.
   */
  nextBatch(): Promise<BusEvent<D>[] | null> {
    const batch = this.#inner.nextBatch();
    if (this.#overflow !== "drop-oldest") this.#returnCredits();
    return batch;
  }

  #returnCredits(): void {
    // Nothing can be owed before creditEvery events arrived since the last return: skip the
    // stats() call (an allocation per event would cost GC pauses on the subscriber's thread).
    if (this.#offered - this.#returned < this.#creditEvery) return;
    const received = this.#inner.stats().received;
    const owed = received - this.#returned;
    if (owed >= this.#creditEvery) {
      this.#port.postMessage(owed);
      this.#returned = received;
    }
  }

  #handle(message: Uint8Array | EndMessage): void {
    if (message instanceof Uint8Array) {
      if (this.#overflow !== "drop-oldest") {
        readBatch(message, this.#onEvent);
        this.#returnCredits();
      } else {
        const before = this.#inner.stats().dropped;
        readBatch(message, this.#onEvent);
        const evicted = this.#inner.stats().dropped - before;
        if (evicted > 0) this.#owner.countDropped(evicted);
      }
    } else if (message.type === "end") this.end(undefined, message);
  }

  async #close(): Promise<void> {
    this.releaseDispatcher();
    await this.#owner.unsubscribe(this.id);
    this.drain();
    this.#inner.end();
  }
}
