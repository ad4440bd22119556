import { MessageChannel, type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import type { BusEvent } from "@threadbus/core";
import type { BodyNames } from "../codec.js";
import type { ClientMessage } from "../protocol.js";
import {
  DELIVERY_RING_BYTES,
  END,
  END_ENTRY_BYTES,
  ENTRY_END_SLOT,
  ENTRY_SLOT_COUNT,
  ENTRY_SLOTS,
  eventEntryBytes,
  JUMBO,
  PAD,
  pageOf,
  RING_DRAIN_POSTED,
  RING_TAIL,
  RING_WAKE_WANTED,
  RING_WRITER_WAITING,
  SLOT_CLOSING,
  SLOT_CONSUMED,
  SLOT_COUNTER_WORDS,
  SLOT_DELIVERED,
  SLOT_DROPPED,
  SLOT_PAGE_BYTES,
  SLOT_SKIP_REQUESTED,
  SLOT_SKIPPED,
  SLOT_WORDS,
  type SlotPage,
  slotCounter,
  slotPage,
  slotWord,
  type WAKE,
} from "../shm/delivery_layout.js";
import { buildEvent, type DataSampler } from "./event_builder.js";
import { createSpscRing, SpscReader } from "./spsc_ring.js";

/** A subscription as its thread's reader feeds it (WorkerSubscription). */
export interface DeliveryTarget {
  readonly sampler: DataSampler;
  /** The next event for this subscription, in order. */
  push(event: BusEvent): void;
  /** The dispatcher ended the subscription: no entry for it follows. */
  endOfEntries(): void;
  /** Set by the reader while it drains: this target got something (reset by the reader). */
  touched: boolean;
}

export interface ThreadReaderOptions {
  client: number;
  names: BodyNames;
  /** Posts to the dispatcher on this thread's control port (the ring first, then slot pages). */
  post(message: ClientMessage, transfer: MessagePort[]): void;
  wakeDispatcher(): void;
}

/** The dispatcher's counters for one subscription, as last published. */
export interface SlotCounters {
  delivered: number;
  dropped: number;
  /** Events accepted for it that drop-oldest dropped later. */
  skips: number;
}

/**
 * One thread's end of per-thread delivery: its ring, its slot pages, and the fan-out to its
 * subscriptions. The ring is drained (copied into a private chunk, freed at once, parsed into
 * each subscription's local queue) when a consumer of this thread asks for events, or when the
 * dispatcher posts a wake on the port (a consumer said it waits, or a backlog waits for room).
 * Only the owning thread calls these methods.
 */
export class ThreadReader {
  readonly #reader: SpscReader;
  readonly #header: Int32Array;
  readonly #port: MessagePort;
  readonly #names: BodyNames;
  readonly #options: ThreadReaderOptions;
  readonly #pages: SlotPage[] = [];
  readonly #targets: (DeliveryTarget | undefined)[] = [];
  readonly #free: number[] = [];
  #nextSlot = 0;
  /** Consumers waiting for events; the port holds the event loop open while there is one. */
  readonly #waiters = new Map<DeliveryTarget, { promise: Promise<void>; resolve: () => void }>();
  /** Entries too large for the ring (and a last batch) taken off the port by its listener, in order. */
  readonly #bodies: ArrayBuffer[] = [];
  #touched: DeliveryTarget[] = [];
  #draining = false;
  #disposed = false;

  constructor(options: ThreadReaderOptions) {
    this.#options = options;
    this.#names = options.names;
    const ring = createSpscRing(DELIVERY_RING_BYTES);
    this.#reader = new SpscReader(ring);
    this.#header = this.#reader.header;
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#port.on("message", (message: ArrayBuffer | typeof WAKE) => {
      if (message instanceof ArrayBuffer) this.#bodies.push(message);
      else this.drain();
    });
    // A thread nobody waits on is not held open by its subscriptions (see wait()).
    this.#port.unref();
    options.post({ type: "delivery", client: options.client, ring, port: channel.port2 }, [channel.port2]);
  }

  /** Gives `target` a slot (its shared state, reset), sending the dispatcher a new page when needed. */
  register(target: DeliveryTarget): number {
    const slot = this.#free.pop() ?? this.#nextSlot++;
    const index = pageOf(slot);
    let page = this.#pages[index];
    if (page === undefined) {
      const buffer = new SharedArrayBuffer(SLOT_PAGE_BYTES);
      page = slotPage(buffer);
      this.#pages[index] = page;
      this.#options.post({ type: "slots", client: this.#options.client, page: index, buffer }, []);
    } else {
      page.words.fill(0, slotWord(slot, 0), slotWord(slot, 0) + SLOT_WORDS);
      page.counters.fill(0, slotCounter(slot, 0), slotCounter(slot, 0) + SLOT_COUNTER_WORDS);
    }
    this.#targets[slot] = target;
    return slot;
  }

  /** The subscription in `slot` is over on both sides (its END was read): the slot can be reused. */
  release(slot: number): void {
    this.#targets[slot] = undefined;
    this.#free.push(slot);
  }

  counters(slot: number): SlotCounters {
    const page = this.#pages[pageOf(slot)]!;
    const at = slotCounter(slot, 0);
    return {
      delivered: page.counters[at + SLOT_DELIVERED]!,
      dropped: page.counters[at + SLOT_DROPPED]!,
      skips: Atomics.load(page.words, slotWord(slot, SLOT_SKIP_REQUESTED)),
    };
  }

  /** Counts events handed to the consumer of `slot`; wakes a dispatcher that waits for room. */
  consume(slot: number, count: number): void {
    const words = this.#pages[pageOf(slot)]!.words;
    Atomics.add(words, slotWord(slot, SLOT_CONSUMED), count);
    this.#wakeWriter();
  }

  /** The shared words of `slot`'s page, and where the slot's start (for a subscription to keep: see pendingSkips). */
  slotWords(slot: number): { words: Int32Array; base: number } {
    return { words: this.#pages[pageOf(slot)]!.words, base: slotWord(slot, 0) };
  }

  /** Oldest events drop-oldest asked `slot` to drop and it has not yet. */
  pendingSkips(slot: number): number {
    const words = this.#pages[pageOf(slot)]!.words;
    return (
      (Atomics.load(words, slotWord(slot, SLOT_SKIP_REQUESTED)) - words[slotWord(slot, SLOT_SKIPPED)]!) | 0
    );
  }

  /** Counts skips applied: skipped first, so the dispatcher never counts one as free twice. */
  skip(slot: number, count: number): void {
    const words = this.#pages[pageOf(slot)]!.words;
    Atomics.add(words, slotWord(slot, SLOT_SKIPPED), count);
    Atomics.add(words, slotWord(slot, SLOT_CONSUMED), count);
    this.#wakeWriter();
  }

  /** Lifts `slot`'s bufferSize limit: it is closing and takes whatever is in flight. */
  close(slot: number): void {
    Atomics.store(this.#pages[pageOf(slot)]!.words, slotWord(slot, SLOT_CLOSING), 1);
    // A dispatcher blocked on this subscription asked for a wake (RING_WRITER_WAITING).
    this.#wakeWriter();
  }

  /** Copies what waits in the ring (and a last batch) into the subscriptions' local queues. */
  drain(): void {
    if (this.#disposed || this.#draining) return;
    // The common case when a consumer asks: nothing new (one shared load).
    if (!this.#reader.hasEntries && Atomics.load(this.#header, RING_TAIL) !== 1) return;
    this.#draining = true;
    try {
      if (Atomics.load(this.#header, RING_DRAIN_POSTED) !== 0)
        Atomics.store(this.#header, RING_DRAIN_POSTED, 0);
      for (;;) {
        const taken = this.#reader.take();
        if (taken !== null) {
          this.#parse(taken.chunk, taken.wrapAt);
          continue;
        }
        if (Atomics.load(this.#header, RING_TAIL) === 1) {
          Atomics.store(this.#header, RING_TAIL, 2);
          const tail = Buffer.from(this.#takeBody());
          this.#parse(tail, tail.byteLength);
        }
        break;
      }
      this.#wakeWriter();
    } finally {
      this.#draining = false;
    }
    this.#wakeTouched();
  }

  /**
   * Resolves once `target` got events or ended (or interrupt()). Sets RING_WAKE_WANTED, so the
   * dispatcher posts a wake when it publishes; the port holds the thread open meanwhile.
   *
   * Not Atomics.waitAsync: measured on Node 20, a waitAsync woken by a notify from the dispatcher
   * sometimes stayed unresolved for seconds, until some message reached this thread.
   */
  wait(target: DeliveryTarget): Promise<void> {
    if (this.#disposed) return Promise.resolve();
    const waiting = this.#waiters.get(target);
    if (waiting !== undefined) return waiting.promise;
    let resolve!: () => void;
    const promise = new Promise<void>((done) => {
      resolve = done;
    });
    if (this.#waiters.size === 0) this.#port.ref();
    this.#waiters.set(target, { promise, resolve });
    this.#wantWake();
    return promise;
  }

  /** Releases every pending wait() (the bus failed, or this thread leaves). */
  interrupt(): void {
    const waiters = [...this.#waiters.values()];
    this.#waiters.clear();
    this.#port.unref();
    for (const waiting of waiters) waiting.resolve();
  }

  /** This thread is done with the bus: releases waits and closes the port. */
  dispose(): void {
    if (this.#disposed) return;
    this.drain();
    this.#disposed = true;
    this.interrupt();
    this.#port.close();
  }

  /** Asks for a wake while someone waits, looking again after asking (the dispatcher may have just published). */
  #wantWake(): void {
    while (this.#waiters.size > 0 && !this.#disposed) {
      Atomics.store(this.#header, RING_WAKE_WANTED, 1);
      if (!this.#reader.hasEntries && Atomics.load(this.#header, RING_TAIL) !== 1) return;
      Atomics.store(this.#header, RING_WAKE_WANTED, 0);
      this.drain();
      if (this.#draining) return;
    }
  }

  #wakeTouched(): void {
    const touched = this.#touched;
    if (touched.length === 0) return;
    this.#touched = [];
    let woke = false;
    for (const target of touched) {
      target.touched = false;
      const waiting = this.#waiters.get(target);
      if (waiting !== undefined) {
        this.#waiters.delete(target);
        woke = true;
        waiting.resolve();
      }
    }
    if (woke && this.#waiters.size === 0) this.#port.unref();
    else if (this.#waiters.size > 0) Atomics.store(this.#header, RING_WAKE_WANTED, 1);
  }

  #wakeWriter(): void {
    const header = this.#header;
    if (Atomics.load(header, RING_WRITER_WAITING) !== 0) {
      Atomics.store(header, RING_WRITER_WAITING, 0);
      this.#options.wakeDispatcher();
    }
  }

  /**
   * The next body posted on the port, in order: one the listener already took, else one still
   * queued (a body is always posted before the entry that names it is published).
   */
  #takeBody(): ArrayBuffer {
    const taken = this.#bodies.shift();
    if (taken !== undefined) return taken;
    for (;;) {
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) throw new Error("threadbus: the bytes of a large event are missing");
      if (received.message instanceof ArrayBuffer) return received.message;
    }
  }

  #parse(chunk: Buffer, wrapAt: number): void {
    const words = new Int32Array(chunk.buffer, chunk.byteOffset, chunk.byteLength >> 2);
    const end = chunk.byteLength;
    let at = 0;
    while (at < end) {
      const w = at >> 2;
      const length = words[w]!;
      if (length === PAD) {
        at = wrapAt;
      } else if (length === END) {
        const target = this.#targets[words[w + ENTRY_END_SLOT]!];
        if (target !== undefined) {
          this.#touch(target);
          target.endOfEntries();
        }
        at += END_ENTRY_BYTES;
      } else if (length === JUMBO) {
        const body = Buffer.from(this.#takeBody());
        this.#entry(body, new Int32Array(body.buffer, body.byteOffset, body.byteLength >> 2), 0);
        at += 4;
      } else {
        at += this.#entry(chunk, words, w);
      }
    }
  }

  /** Fans out the event entry at word `w` to its subscriptions; returns its size in bytes. */
  #entry(text: Buffer, words: Int32Array, w: number): number {
    const count = words[w + ENTRY_SLOT_COUNT]!;
    const body = w + ENTRY_SLOTS + count;
    const names = this.#names;
    for (let i = 0; i < count; i++) {
      const target = this.#targets[words[w + ENTRY_SLOTS + i]!];
      if (target === undefined) continue;
      target.push(buildEvent(names, text, words, body, target.sampler));
      this.#touch(target);
    }
    return eventEntryBytes(count, words[w]!);
  }

  #touch(target: DeliveryTarget): void {
    if (target.touched) return;
    target.touched = true;
    this.#touched.push(target);
  }
}
