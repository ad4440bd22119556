import { MessageChannel, type MessagePort } from "node:worker_threads";
import {
  AbortError,
  assertBusEvent,
  BusClosedError,
  type BusEvent,
  BusFullError,
  type BusStats,
  type EventBus,
  InvalidOptionsError,
  type Logger,
  resolveSubscribeOptions,
  type SendOptions,
  type SubscribeOptions,
  SubscriberCapError,
  type Subscription,
  SubscriptionIndex,
  type ThreadbusError,
  WorkerFailedError,
} from "@threadbus/core";
import { RecordEncoder, RecordType } from "./codec.js";
import {
  ABORT_SLOTS,
  CLIENT_COUNTERS,
  DISPATCHER_COUNTERS,
  kAborted,
  kAbortSlots,
  kClientDropped,
  kClientPublished,
  kClientRefused,
  kClientSent,
  kConsumedRecords,
  kDelivered,
  kDispatcherDropped,
  kDroppedOnStop,
  kMaxClients,
  kMaxSubscribers,
  kNextSubscription,
  kSlotDelivered,
  kSlotDropped,
  kSubscriptions,
  kWake,
  SLOT_COUNTERS,
} from "./constants.js";
import type { OnFull } from "./options.js";
import type { ClientMessage, DispatcherMessage, SerializedError } from "./protocol.js";
import { CLAIM_CLOSED, CLAIM_FULL, FRAME_BYTES, RecordTooLargeError, Ring } from "./ring.js";
import { type SubscriptionOwner, WorkerSubscription } from "./worker_subscription.js";

/** Everything a thread needs to use a running WorkerBus; see WorkerBus.handle(). */
export interface ClientConfig {
  buffer: SharedArrayBuffer;
  ringOffset: number;
  countersOffset: number;
  client: number;
  onFull: OnFull;
  maxWaitMs: number;
}

interface Pending {
  resolve(value: number): void;
  reject(error: unknown): void;
}

const SUBSCRIPTION_ID = /^sub\.(\d+)$/;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * One thread's side of a WorkerBus: publishes into the shared ring, sends control records and
 * receives their replies on its control port, and owns the subscriptions that live on this
 * thread. WorkerBus (the starting thread) and attach() (any other thread) both build on it.
 */
export abstract class BusClient implements EventBus, SubscriptionOwner {
  protected readonly ring: Ring;
  protected readonly header: Int32Array;
  protected readonly control: MessagePort;
  protected readonly config: ClientConfig;
  readonly #encoder = new RecordEncoder();
  readonly #counters: Float64Array;
  readonly #mine: number;
  readonly #slotBase: number;
  readonly #maxClients: number;
  readonly #pending = new Map<number, Pending>();
  readonly #subscriptions = new Map<string, WorkerSubscription>();
  readonly #abortListeners: Array<{ signal: AbortSignal; listener: () => void } | undefined> = [];
  #token = 0;
  #ticket = 0;
  #abortCursor = 0;
  #closed = false;
  #failure: WorkerFailedError | null = null;
  #finished = false;
  #detaching = false;
  #onFinished: Array<() => void> = [];

  protected constructor(
    config: ClientConfig,
    control: MessagePort,
    protected readonly logger: Logger,
  ) {
    this.config = config;
    this.ring = new Ring(config.buffer, config.ringOffset);
    this.header = this.ring.header;
    this.control = control;
    this.#maxClients = Atomics.load(this.header, kMaxClients);
    this.#slotBase = DISPATCHER_COUNTERS + this.#maxClients * CLIENT_COUNTERS;
    const count = this.#slotBase + Atomics.load(this.header, kMaxSubscribers) * SLOT_COUNTERS;
    this.#counters = new Float64Array(config.buffer, config.countersOffset, count);
    this.#mine = DISPATCHER_COUNTERS + config.client * CLIENT_COUNTERS;
    control.on("message", (message: DispatcherMessage) => this.#onControl(message));
    control.once("close", () => {
      if (this.#detaching) this.complete();
      else if (!this.#finished) this.fail(new WorkerFailedError("dispatcher worker failed: its port closed"));
    });
  }

  get closed(): boolean {
    return this.#closed || this.ring.closed || this.#failure !== null;
  }

  /** The failure that ended this bus, if the dispatcher worker died. */
  get failure(): WorkerFailedError | null {
    return this.#failure;
  }

  async subscribe<D = unknown>(
    system: string,
    kind?: string,
    options?: SubscribeOptions,
  ): Promise<Subscription<D>> {
    if (this.#failure) throw this.#failure;
    if (this.closed) throw new BusClosedError();
    const resolved = resolveSubscribeOptions(options);
    // Compiling here makes a bad pattern reject before anything reaches the ring.
    SubscriptionIndex.compile("", system, kind, null, resolved.path);
    const signal = resolved.signal;
    if (signal?.aborted) throw new AbortError("subscribe aborted", { cause: signal.reason });
    const number = Atomics.add(this.header, kNextSubscription, 1) + 1;
    const id = `sub.${number}`;
    const token = ++this.#token;
    const channel = new MessageChannel();
    const subscription = new WorkerSubscription<D>(
      id,
      system,
      kind ?? "",
      resolved.bufferSize,
      resolved.overflow,
      channel.port1,
      this,
    );
    const message: ClientMessage = { type: "port", client: this.config.client, token, port: channel.port2 };
    this.control.postMessage(message, [channel.port2]);
    const reply = this.#expect(token);
    const enqueued = await this.#enqueueControl(RecordType.subscribe, () =>
      this.#encoder.encodeSubscribe(
        this.config.client,
        token,
        number,
        resolved.bufferSize,
        resolved.overflow,
        system,
        kind ?? "",
        resolved.path,
      ),
    );
    let slot: number;
    try {
      if (!enqueued) throw new BusClosedError();
      slot = await reply;
    } catch (error) {
      this.#pending.delete(token);
      channel.port1.close();
      // A subscribe caught by stop settles with the stop, as in the in-thread Bus.
      if (error instanceof BusClosedError) await this.stopped().catch(() => undefined);
      throw error;
    }
    subscription.activate(slot);
    this.#subscriptions.set(id, subscription as WorkerSubscription);
    if (signal) {
      const onAbort = () => void subscription.close();
      signal.addEventListener("abort", onAbort, { once: true });
    }
    return subscription;
  }

  async unsubscribe(id: string): Promise<boolean> {
    if (this.#failure) throw this.#failure;
    if (this.#finished) return false;
    const match = SUBSCRIPTION_ID.exec(id);
    if (match === null) return false;
    this.#subscriptions.get(id)?.releaseDispatcher();
    const token = ++this.#token;
    const reply = this.#expect(token);
    const number = Number(match[1]);
    const encode = () => this.#encoder.encodeControl(this.config.client, token, number);
    if (!(await this.#enqueueControl(RecordType.unsubscribe, encode))) {
      this.#pending.delete(token);
      await this.finished();
      return false;
    }
    const removed = (await reply.catch(settleClosed(0))) === 1;
    this.#subscriptions.get(id)?.drain();
    return removed;
  }

  async flush(): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#finished) return;
    const token = ++this.#token;
    const reply = this.#expect(token);
    const enqueued = await this.#enqueueControl(RecordType.flush, () =>
      this.#encoder.encodeControl(this.config.client, token, 0),
    );
    if (!enqueued) {
      this.#pending.delete(token);
      await this.finished();
      return;
    }
    await reply.catch(settleClosed(0));
    for (const subscription of this.#subscriptions.values()) subscription.drain();
  }

  send<D = unknown>(event: BusEvent<D>, options?: SendOptions): boolean {
    assertBusEvent(event);
    if (this.#closed || this.#failure !== null) {
      if (this.#failure !== null) this.#counters[this.#mine + kClientRefused]!++;
      return false;
    }
    const { system, kind, path, data } = event;
    const encoder = this.#encoder;
    const ring = this.ring;
    const length = encoder.measureSend(system, kind, path, data);
    if (length > ring.maxRecordBytes) throw new RecordTooLargeError(length, ring.maxRecordBytes);
    const signal = options?.signal;
    let slot = -1;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#counters[this.#mine + kClientRefused]!++;
        return false;
      }
      slot = this.#takeAbortSlot(signal);
      if (slot < 0 && this.config.onFull === "wait") {
        const deadline = performance.now() + this.config.maxWaitMs;
        while (slot < 0 && performance.now() < deadline) {
          Atomics.wait(pause, 0, 0, 0.05);
          slot = this.#takeAbortSlot(signal);
        }
      }
      if (slot < 0) return this.#full(`all ${ABORT_SLOTS} slots for signalled sends are in use`);
    }
    let offset = ring.tryClaim(length);
    if (offset === CLAIM_FULL) offset = this.#waitForRoom(length);
    if (offset < 0) {
      if (slot >= 0) Atomics.store(this.header, kAbortSlots + slot, 0);
      return offset === CLAIM_CLOSED ? false : this.#full("the ring has no room");
    }
    encoder.writeSend(ring.buffer, ring.words, offset, system, kind, path, data, this.config.client, slot);
    ring.publish(offset, length, RecordType.send);
    const counters = this.#counters;
    counters[this.#mine + kClientSent]!++;
    counters[this.#mine + kClientPublished]!++;
    return true;
  }

  stats(): BusStats {
    const c = this.#counters;
    let sent = 0;
    let refused = 0;
    let published = 0;
    let dropped = c[kDispatcherDropped]!;
    for (let client = 0; client < this.#maxClients; client++) {
      const base = DISPATCHER_COUNTERS + client * CLIENT_COUNTERS;
      sent += c[base + kClientSent]!;
      refused += c[base + kClientRefused]!;
      published += c[base + kClientPublished]!;
      dropped += c[base + kClientDropped]!;
    }
    return {
      sent,
      delivered: c[kDelivered]!,
      dropped,
      droppedOnStop: c[kDroppedOnStop]!,
      refused,
      aborted: c[kAborted]!,
      subscriptions: c[kSubscriptions]!,
      queued: Math.max(0, published - c[kConsumedRecords]!),
    };
  }

  abstract stop(): Promise<void>;

  // SubscriptionOwner
  dispatcherCounters(slot: number): { dropped: number; delivered: number } {
    const base = this.#slotBase + slot * SLOT_COUNTERS;
    return {
      dropped: this.#counters[base + kSlotDropped]!,
      delivered: this.#counters[base + kSlotDelivered]!,
    };
  }

  countDropped(count: number): void {
    this.#counters[this.#mine + kClientDropped]! += count;
  }

  forget(id: string): void {
    this.#subscriptions.delete(id);
  }

  /** Marks this client closed locally (sends return false, subscribes reject at once). */
  protected markClosed(): void {
    this.#closed = true;
  }

  /** Resolves once the dispatcher finished (or failed, or this client detached). */
  protected finished(): Promise<void> {
    if (this.#finished || this.#failure) return Promise.resolve();
    return new Promise((resolve) => this.#onFinished.push(resolve));
  }

  /** Resolves once stop() (or detach) has completed; WorkerBus waits for its worker as well. */
  protected stopped(): Promise<void> {
    return this.finished();
  }

  /** Wakes a dispatcher that sleeps or waits for a blocked subscriber (stop, abort). */
  protected wakeDispatcher(): void {
    Atomics.add(this.header, kWake, 1);
    Atomics.notify(this.header, kWake);
    this.ring.wake();
  }

  /** The dispatcher is gone: every pending call rejects, every iterator ends with `error`. */
  protected fail(error: WorkerFailedError): void {
    if (this.#failure || this.#finished) return;
    this.#failure = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    for (const subscription of [...this.#subscriptions.values()]) subscription.end(error);
    this.#settle();
    this.control.close();
  }

  /** The dispatcher finished (stop) or this client detached: settle what is left. */
  protected complete(): void {
    if (this.#finished || this.#failure) return;
    this.#finished = true;
    for (const subscription of [...this.#subscriptions.values()]) subscription.drain();
    for (const subscription of [...this.#subscriptions.values()]) subscription.end();
    for (const [token, pending] of this.#pending) {
      this.#pending.delete(token);
      pending.reject(new BusClosedError());
    }
    this.#settle();
    this.control.close();
  }

  /** Enqueues a detach record (an attached client leaving); the dispatcher then closes our port. */
  protected detachRecord(): Promise<boolean> {
    this.#detaching = true;
    return this.#enqueueControl(RecordType.detach, () =>
      this.#encoder.encodeControl(this.config.client, 0, 0),
    );
  }

  #settle(): void {
    const waiting = this.#onFinished;
    this.#onFinished = [];
    for (const resolve of waiting) resolve();
  }

  #onControl(message: DispatcherMessage): void {
    if (message.type === "finished") {
      this.complete();
      return;
    }
    if (message.type === "warning") {
      this.logger.warn(message.message);
      return;
    }
    const pending = this.#pending.get(message.token);
    if (pending === undefined) return;
    this.#pending.delete(message.token);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(toError(message.error));
  }

  #expect(token: number): Promise<number> {
    const promise = new Promise<number>((resolve, reject) => {
      if (this.#failure) reject(this.#failure);
      else this.#pending.set(token, { resolve, reject });
    });
    promise.catch(() => undefined);
    return promise;
  }

  /** Control records never fail for lack of room: they wait (asynchronously) until it comes. */
  async #enqueueControl(type: number, encode: () => number): Promise<boolean> {
    let delay = 0;
    for (;;) {
      if (this.#failure) throw this.#failure;
      const length = encode();
      const offset = this.ring.tryClaim(length);
      if (offset === CLAIM_CLOSED) return false;
      if (offset >= 0) {
        this.#copyRecord(offset, length);
        this.ring.publish(offset, length, type);
        this.#counters[this.#mine + kClientPublished]!++;
        return true;
      }
      delay = Math.min(20, delay + 1);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /**
   * Copies an encoded record into its claimed space, frame excluded: the frame's length word is
   * the publish flag, written last by Ring.publish; copying it too would publish the record early.
   */
  #copyRecord(offset: number, length: number): void {
    this.ring.bytes.set(this.#encoder.bytes.subarray(FRAME_BYTES, length), offset + FRAME_BYTES);
  }

  /** onFull "wait": retries for at most maxWaitMs, pausing 50 µs between tries. */
  #waitForRoom(length: number): number {
    if (this.config.onFull !== "wait") return CLAIM_FULL;
    const deadline = performance.now() + this.config.maxWaitMs;
    for (;;) {
      Atomics.wait(pause, 0, 0, 0.05);
      const offset = this.ring.tryClaim(length);
      if (offset !== CLAIM_FULL || performance.now() >= deadline) return offset;
    }
  }

  #full(reason: string): boolean {
    if (this.config.onFull === "drop") {
      this.#counters[this.#mine + kClientRefused]!++;
      return false;
    }
    const waited = this.config.onFull === "wait" ? ` after waiting ${this.config.maxWaitMs} ms` : "";
    throw new BusFullError(`bus is full: ${reason}${waited}`);
  }

  /**
   * A signalled send takes a shared abort slot holding a fresh even ticket; its abort listener
   * sets the low bit only if the slot still holds that ticket, so a stale listener can never
   * abort a later send. The previous listener of a slot is removed when this client reuses it.
   */
  #takeAbortSlot(signal: AbortSignal): number {
    const header = this.header;
    for (let tries = 0; tries < ABORT_SLOTS; tries++) {
      const slot = this.#abortCursor;
      this.#abortCursor = (slot + 1) % ABORT_SLOTS;
      this.#ticket = (this.#ticket + 1) & 0xfffff;
      const ticket = ((this.#ticket * 1024 + this.config.client) * 2) | 0 || 2;
      if (Atomics.compareExchange(header, kAbortSlots + slot, 0, ticket) !== 0) continue;
      const previous = this.#abortListeners[slot];
      previous?.signal.removeEventListener("abort", previous.listener);
      const listener = () => {
        if (Atomics.compareExchange(header, kAbortSlots + slot, ticket, ticket | 1) === ticket)
          this.wakeDispatcher();
      };
      signal.addEventListener("abort", listener, { once: true });
      this.#abortListeners[slot] = { signal, listener };
      return slot;
    }
    return -1;
  }
}

/** A reply cut short by stop settles with `value`; a failure of the dispatcher still rejects. */
function settleClosed(value: number): (error: unknown) => number {
  return (error) => {
    if (error instanceof BusClosedError) return value;
    throw error;
  };
}

function toError(error: SerializedError): ThreadbusError | Error {
  switch (error.code) {
    case "BUS_CLOSED":
      return new BusClosedError(error.message);
    case "SUBSCRIBER_CAP":
      return new SubscriberCapError(error.max ?? 0);
    case "INVALID_OPTIONS":
      return new InvalidOptionsError(error.message, "options");
    default:
      return new Error(error.message);
  }
}
