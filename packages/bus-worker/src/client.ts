import { isMainThread, MessageChannel, type MessagePort } from "node:worker_threads";
import {
  AbortError,
  assertBusEvent,
  BusClosedError,
  type BusEvent,
  BusFullError,
  type BusStats,
  type CatalogueEntry,
  type CatalogueLike,
  type catalogueType,
  checkCatalogued,
  type EventBus,
  faultError,
  InvalidOptionsError,
  type Logger,
  PatternWarnings,
  type ResolvedCatalogue,
  resolveSendSignal,
  resolveSubscribeOptions,
  type SendEvent,
  type SendOptions,
  type SubscribeOptions,
  SubscriberCapError,
  type SubscriptionFor,
  SubscriptionIndex,
  shapeFault,
  type ThreadbusError,
  type Untyped,
  WorkerFailedError,
} from "@threadbus/core";
import { AbortSlots } from "./abort_slots.js";
import { BodyNames, RecordEncoder } from "./codec.js";
import { CatalogueCodecs, type CompiledCodec } from "./compiled_codec.js";
import {
  CLIENT_FREE,
  clientCounterBase,
  DispatcherState,
  kAborted,
  kClientPublished,
  kClientRefused,
  kClientSent,
  kConsumedRecords,
  kDelivered,
  kDispatcherDropped,
  kDispatcherState,
  kDroppedOnStop,
  kLostSubscribers,
  kNamesOffset,
  kNextSubscription,
  kRetiredPublished,
  kRetiredRefused,
  kRetiredSent,
  kSpaceSeq,
  kSpaceWaiters,
  kSubscriptions,
  kTorn,
  type SharedViews,
  sharedViews,
} from "./constants.js";
import { createDeliveryRing } from "./delivery.js";
import { NameTable } from "./names.js";
import type { OnFull } from "./options.js";
import type { ClientMessage, DispatcherMessage, SerializedError } from "./protocol.js";
import { CLAIM_CLOSED, CLAIM_FULL, FRAME_BYTES, Ring } from "./ring.js";
import { COMPILED_TAG, RecordType } from "./shm/record_layout.js";
import { type SubscriptionOwner, WorkerSubscription } from "./worker_subscription.js";

/** Everything a thread needs to use a running WorkerBus; see WorkerBus.handle(). */
export interface ClientConfig {
  buffer: SharedArrayBuffer;
  /** This thread's client slot (0 is the thread that started the bus). */
  client: number;
  /** The slot's nonce: proves the handle came from bus.handle() (see constants.ts, client states). */
  nonce: number;
  /** What send() does when the ring is full; undefined: "wait" in a worker, "throw" on the main thread. */
  onFull?: OnFull | undefined;
  maxWaitMs: number;
  /** The bus's catalogue fingerprint (EventCatalogue.fingerprint()); absent when it has none. */
  catalogue?: string[] | undefined;
  /** The starting thread's validate and uncatalogued options, the default of attached threads. */
  validate?: ResolvedCatalogue["validate"] | undefined;
  uncatalogued?: ResolvedCatalogue["uncatalogued"] | undefined;
}

const NO_CATALOGUE: ResolvedCatalogue = { events: null, validate: "shape", uncatalogued: "refuse" };

/** Counters of a WorkerBus: the in-thread Bus's, plus what only threads can lose. */
export interface WorkerBusStats extends BusStats {
  /** Records a thread claimed and never published (it died mid-send, or stalled past unblockAfterMs): skipped, never delivered. */
  torn: number;
  /** Subscriptions removed because their thread died. */
  lostSubscribers: number;
  /**
   * Thread slots in use, exactly as handle() sees them: threads attached now (the starting one
   * included), handles given out and not attached yet, and gone threads whose slot is not given
   * back yet. 0 once the bus stopped.
   */
  clients: number;
}

interface Pending {
  resolve(value: number): void;
  reject(error: unknown): void;
}

/** `sub.N` with N a canonical positive Int32 (no leading zeros): "sub.01" is no id. */
const SUBSCRIPTION_ID = /^sub\.([1-9]\d{0,9})$/;
const MAX_SUBSCRIPTION_NUMBER = 0x7fff_ffff;
/**
 * A blocked send looks again at least this often (ms) even without a wake: room can also come
 * from an abort slot given back, which the dispatcher does not announce.
 */
const SPACE_CHECK_MS = 5;

/** Resolves a configured onFull for the calling thread: the main thread never blocks. */
export function resolveOnFull(onFull: OnFull | undefined): OnFull {
  if (onFull === "wait" && isMainThread)
    throw new InvalidOptionsError(
      'options.onFull: "wait" blocks the calling thread, which would freeze the main thread\'s event loop: use "throw" or "drop" there, and await bus.ready() or bus.sendAsync() for back-pressure',
      "options.onFull",
    );
  return onFull ?? (isMainThread ? "throw" : "wait");
}

/**
 * One thread's side of a WorkerBus: publishes into the shared ring, sends control records and
 * receives their replies on its control port, and owns the subscriptions that live on this
 * thread. WorkerBus (the starting thread) and attach() (any other thread) both build on it.
 */
export abstract class BusClient<C extends CatalogueLike = Untyped> implements EventBus<C>, SubscriptionOwner {
  declare readonly [catalogueType]?: C;
  protected readonly ring: Ring;
  protected readonly header: Int32Array;
  protected readonly shared: SharedViews;
  protected readonly control: MessagePort;
  protected readonly config: ClientConfig;
  readonly names: BodyNames;
  /** The catalogue's compiled codecs on this thread; null without a catalogue. */
  readonly codecs: CatalogueCodecs | null;
  readonly #catalogue: ResolvedCatalogue;
  readonly #encoder: RecordEncoder;
  readonly #abortSlots: AbortSlots;
  readonly #onFull: OnFull;
  readonly #patternWarnings: PatternWarnings;
  readonly #counters: Float64Array;
  readonly #mine: number;
  readonly #pending = new Map<number, Pending>();
  readonly #subscriptions = new Map<string, WorkerSubscription>();
  #token = 0;
  /** ready() calls waiting for ring space (they keep the thread alive, see #keepAlive). */
  #roomWaits = 0;
  /** Resolved by the dispatcher's "space" message. */
  #spaceWaiters: Array<() => void> = [];
  /** The measured length of the send being enqueued (see RecordEncoder.measureSend), and its data. */
  #length = 0;
  #data: unknown = undefined;
  /** The catalogue entry of the last (system, kind) sent, and its codec (see #measure). */
  #lastSystem = "";
  #lastKind = "";
  #lastEntry: CatalogueEntry | undefined = undefined;
  #lastCodec: CompiledCodec | null = null;
  #closed = false;
  #failure: WorkerFailedError | null = null;
  #finished = false;
  #detaching = false;
  #onFinished: Array<() => void> = [];

  protected constructor(
    config: ClientConfig,
    control: MessagePort,
    logger: Logger,
    catalogue: ResolvedCatalogue = NO_CATALOGUE,
  ) {
    this.config = config;
    this.#catalogue = catalogue;
    this.codecs = catalogue.events === null ? null : new CatalogueCodecs(catalogue.events);
    this.logger = logger;
    this.#patternWarnings = new PatternWarnings(logger);
    this.#onFull = resolveOnFull(config.onFull);
    this.ring = new Ring(config.buffer);
    this.shared = sharedViews(config.buffer);
    this.header = this.shared.header;
    const table = new NameTable(config.buffer, Atomics.load(this.header, kNamesOffset));
    this.names = new BodyNames(table);
    this.#encoder = new RecordEncoder(table);
    this.#abortSlots = new AbortSlots(this.header, config.client, () => this.ring.wake());
    this.control = control;
    this.#counters = this.shared.counters;
    this.#mine = clientCounterBase(config.client);
    control.on("message", (message: DispatcherMessage) => this.#onControl(message));
    // Only a call waiting for its reply keeps this thread alive (see #keepAlive): an attached
    // worker that is done exits by itself, and the dispatcher sees its port close.
    control.unref();
    control.once("close", () => {
      if (this.#detaching) this.complete();
      else if (!this.#finished) this.fail(new WorkerFailedError("dispatcher worker failed: its port closed"));
    });
  }

  protected readonly logger: Logger;

  get closed(): boolean {
    return this.#closed || this.ring.closed || this.#failure !== null;
  }

  /** The failure that ended this bus, if the dispatcher worker died. */
  get failure(): WorkerFailedError | null {
    return this.#failure;
  }

  async subscribe<D = unknown, S extends string = string, K extends string = string>(
    system: S,
    kind?: K,
    options?: SubscribeOptions,
  ): Promise<SubscriptionFor<C, S, K, D>> {
    if (this.#failure) throw this.#failure;
    if (this.closed) throw new BusClosedError();
    const resolved = resolveSubscribeOptions(options);
    // Compiling here makes a bad pattern reject before anything reaches the ring.
    SubscriptionIndex.compile("", system, kind, null, resolved.path);
    this.#patternWarnings.check(system, kind);
    const signal = resolved.signal;
    if (signal?.aborted) throw new AbortError("subscribe aborted", { cause: signal.reason });
    const number = Atomics.add(this.header, kNextSubscription, 1) + 1;
    const id = `sub.${number}`;
    const token = ++this.#token;
    const channel = new MessageChannel();
    const ring = createDeliveryRing(resolved.bufferSize);
    const subscription = new WorkerSubscription<D>(id, system, kind ?? "", ring, channel.port1, this);
    const message: ClientMessage = {
      type: "port",
      client: this.config.client,
      token,
      port: channel.port2,
      ring,
    };
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
    try {
      if (!enqueued) throw new BusClosedError();
      await reply;
    } catch (error) {
      this.#forget(token);
      channel.port1.close();
      // A subscribe caught by stop settles with the stop, as in the in-thread Bus.
      if (error instanceof BusClosedError) await this.stopped().catch(() => undefined);
      throw error;
    }
    this.#subscriptions.set(id, subscription as WorkerSubscription);
    if (signal) {
      if (signal.aborted) {
        // The signal fired while the subscribe was on its way: as on the in-thread Bus, no
        // subscription is left behind, and the call rejects.
        await subscription.close();
        throw new AbortError("subscribe aborted", { cause: signal.reason });
      }
      const onAbort = () => void subscription.close();
      signal.addEventListener("abort", onAbort, { once: true });
      subscription.onEnd(() => signal.removeEventListener("abort", onAbort));
    }
    return subscription as unknown as SubscriptionFor<C, S, K, D>;
  }

  async unsubscribe(id: string): Promise<boolean> {
    if (this.#failure) throw this.#failure;
    if (this.#finished) return false;
    const match = typeof id === "string" ? SUBSCRIPTION_ID.exec(id) : null;
    if (match === null) return false;
    const number = Number(match[1]);
    if (number > MAX_SUBSCRIPTION_NUMBER) return false;
    // A subscription of this thread takes what is in flight from now on, so the dispatcher never
    // waits on it while it goes.
    this.#subscriptions.get(id)?.beginClose();
    const token = ++this.#token;
    const reply = this.#expect(token);
    const encode = () => this.#encoder.encodeControl(this.config.client, token, number);
    if (!(await this.#enqueueControl(RecordType.unsubscribe, encode))) {
      this.#forget(token);
      await this.finished();
      return false;
    }
    return (await reply.catch(settleClosed(0))) === 1;
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
      this.#forget(token);
      await this.finished();
      return;
    }
    await reply.catch(settleClosed(0));
  }

  /**
   * Enqueues an event; returns true once it is in the ring. A full ring follows onFull: "wait"
   * (workers only) blocks up to maxWaitMs for room, "throw" throws BusFullError, "drop" returns
   * false (counted in stats().refused). Returns false after stop.
   */
  send<D = unknown>(input: SendEvent<C, D>, options?: SendOptions): boolean {
    const event = input as BusEvent;
    const signal = resolveSendSignal(options);
    const result = this.#trySend(event, signal, true);
    if (result !== CLAIM_FULL) return result === 1;
    if (this.#onFull === "wait") {
      // Blocking is allowed here: resolveOnFull() refuses "wait" on the main thread. The thread
      // sleeps on the space word, which the dispatcher bumps once the ring is half empty (a
      // futex wait: no polling, and one wake lets a burst through instead of one record).
      const header = this.header;
      const deadline = performance.now() + this.config.maxWaitMs;
      Atomics.add(header, kSpaceWaiters, 1);
      try {
        for (;;) {
          const seen = Atomics.load(header, kSpaceSeq);
          const retry = this.#trySend(event, signal, false);
          if (retry !== CLAIM_FULL) return retry === 1;
          const left = deadline - performance.now();
          if (left <= 0) break;
          this.ring.wakeConsumer();
          Atomics.wait(header, kSpaceSeq, seen, Math.min(left, SPACE_CHECK_MS));
        }
      } finally {
        Atomics.sub(header, kSpaceWaiters, 1);
      }
    }
    return this.#full();
  }

  /**
   * Enqueues an event, waiting without blocking the thread while the ring is full (a stream's
   * write + 'drain' in one call). Resolves true once enqueued, false after stop; rejects with
   * AbortError if `signal` aborts while it waits, and with InvalidEventError for a bad event.
   */
  async sendAsync<D = unknown>(input: SendEvent<C, D>, options?: SendOptions): Promise<boolean> {
    const event = input as BusEvent;
    const signal = resolveSendSignal(options);
    for (;;) {
      // Measured again after every wait: another send of this thread may have used the encoder.
      const result = this.#trySend(event, signal, true);
      if (result !== CLAIM_FULL) return result === 1;
      await this.ready(signal);
    }
  }

  /**
   * Resolves once the ring is at most half full (at once if it is), without blocking the thread:
   * the back-pressure signal for publishers on the main thread. Resolves after stop as well (a
   * send then returns false); rejects with AbortError if `signal` aborts first.
   */
  async ready(signal?: AbortSignal): Promise<void> {
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw new InvalidOptionsError("signal: must be an AbortSignal", "signal");
    const header = this.header;
    const flags = this.shared.spaceFlags;
    const half = this.ring.capacity >> 1;
    while (this.ring.used > half && !this.closed) {
      if (signal?.aborted) throw new AbortError("waiting for room aborted", { cause: signal.reason });
      const space = new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
      Atomics.store(flags, this.config.client, 1);
      Atomics.add(header, kSpaceWaiters, 1);
      this.#roomWaits++;
      this.#keepAlive();
      try {
        // The dispatcher announces space only while someone is counted: look again now that we are.
        if (this.ring.used <= half || this.closed) return;
        await this.#until(space, signal);
      } finally {
        Atomics.sub(header, kSpaceWaiters, 1);
        this.#roomWaits--;
        this.#keepAlive();
      }
    }
  }

  /** Waits for `promise`, an abort of `signal`, or the end of this client, whichever comes first. */
  #until(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        const at = this.#onFinished.indexOf(done);
        if (at !== -1) this.#onFinished.splice(at, 1);
        resolve();
      };
      void promise.then(done);
      signal?.addEventListener("abort", done, { once: true });
      this.#onFinished.push(done);
    });
  }

  stats(): WorkerBusStats {
    const c = this.#counters;
    let sent = c[kRetiredSent]!;
    let refused = c[kRetiredRefused]!;
    let published = c[kRetiredPublished]!;
    for (let client = 0; client < this.shared.maxClients; client++) {
      const base = clientCounterBase(client);
      sent += c[base + kClientSent]!;
      refused += c[base + kClientRefused]!;
      published += c[base + kClientPublished]!;
    }
    return {
      sent,
      delivered: c[kDelivered]!,
      dropped: c[kDispatcherDropped]!,
      droppedOnStop: c[kDroppedOnStop]!,
      refused,
      aborted: c[kAborted]!,
      subscriptions: c[kSubscriptions]!,
      queued: Math.max(0, published - c[kConsumedRecords]!),
      torn: c[kTorn]!,
      lostSubscribers: c[kLostSubscribers]!,
      clients: this.#slotsInUse(),
    };
  }

  /**
   * Read from the slots themselves, as handle() sees them, not from the dispatcher's count: a
   * slot is in use from the moment handle() gives it out until the dispatcher gives it back.
   */
  #slotsInUse(): number {
    const state = Atomics.load(this.header, kDispatcherState);
    if (state === DispatcherState.finished || state === DispatcherState.failed) return 0;
    const slots = this.shared.clients;
    let used = 0;
    for (let slot = 0; slot < slots.length; slot++) if (Atomics.load(slots, slot) !== CLIENT_FREE) used++;
    return used;
  }

  abstract stop(): Promise<void>;

  // SubscriptionOwner
  forget(id: string): void {
    this.#subscriptions.delete(id);
  }

  wakeDispatcher(): void {
    this.ring.wake();
  }

  /** Marks this client closed locally (sends return false, subscribes reject at once). */
  protected markClosed(): void {
    this.#closed = true;
  }

  /** Resolves once the dispatcher finished (or failed, or this client detached). */
  protected finished(): Promise<void> {
    if (this.#finished || this.#failure) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onFinished.push(resolve);
      this.#keepAlive();
    });
  }

  /** Resolves once stop() (or detach) has completed; WorkerBus waits for its worker as well. */
  protected stopped(): Promise<void> {
    return this.finished();
  }

  /** The dispatcher is gone: every pending call rejects, every iterator ends with `error`. */
  protected fail(error: WorkerFailedError): void {
    if (this.#failure || this.#finished) return;
    this.#failure = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#keepAlive();
    for (const subscription of [...this.#subscriptions.values()]) subscription.fail(error);
    this.#settle();
    this.control.close();
  }

  /** The dispatcher finished (stop) or this client detached: settle what is left. */
  protected complete(): void {
    if (this.#finished || this.#failure) return;
    this.#finished = true;
    // Subscriptions end through their rings (the dispatcher ended each one before it finished);
    // one whose end the dispatcher never wrote (a detach cut short) is ended here.
    for (const subscription of [...this.#subscriptions.values()]) subscription.abandon();
    for (const [token, pending] of this.#pending) {
      this.#forget(token);
      pending.reject(new BusClosedError());
    }
    this.#settle();
    this.control.close();
  }

  /**
   * Enqueues a detach record (an attached client leaving); the dispatcher then closes our port.
   * False if the ring had no room for it within `timeoutMs`.
   */
  protected detachRecord(timeoutMs: number): Promise<boolean> {
    this.#detaching = true;
    return this.#enqueueControl(
      RecordType.detach,
      () => this.#encoder.encodeControl(this.config.client, 0, 0),
      performance.now() + timeoutMs,
    );
  }

  /**
   * One try at enqueueing: 1 enqueued, 0 refused (closed, or the signal already aborted: counted),
   * CLAIM_FULL if there is no room (or no abort slot) now. `measure` validates and encodes the
   * event; a retry of the same send on the same thread may skip it.
   */
  #trySend(event: BusEvent, signal: AbortSignal | undefined, measure: boolean): number {
    if (measure) assertBusEvent(event);
    const counters = this.#counters;
    if (this.#closed || this.#failure !== null) {
      if (this.#failure !== null) counters[this.#mine + kClientRefused]!++;
      return 0;
    }
    if (signal?.aborted) {
      counters[this.#mine + kClientRefused]!++;
      return 0;
    }
    const { system, kind, path } = event;
    const encoder = this.#encoder;
    const ring = this.ring;
    if (measure) this.#measure(event);
    const length = this.#length;
    const data = this.#data;
    const slot = signal === undefined ? -1 : this.#abortSlots.take(signal);
    if (signal !== undefined && slot < 0) return CLAIM_FULL;
    const client = this.config.client;
    const offset = ring.tryClaim(length, client);
    if (offset < 0) {
      if (slot >= 0) this.#abortSlots.untake(slot);
      return offset === CLAIM_CLOSED ? 0 : CLAIM_FULL;
    }
    encoder.writeSend(ring.buffer, ring.words, offset, system, kind, path, data, client, slot);
    // Counted just before the publish, in straight-line code: a thread terminated in between
    // leaves a torn record that was never counted as sent, so sent == delivered + counted holds.
    counters[this.#mine + kClientSent]!++;
    counters[this.#mine + kClientPublished]!++;
    if (ring.publish(offset, length, RecordType.send)) return 1;
    // The dispatcher gave up on this record (the thread stalled past unblockAfterMs): it is torn.
    counters[this.#mine + kClientSent]!--;
    counters[this.#mine + kClientPublished]!--;
    return 0;
  }

  /**
   * Checks a send against the catalogue (if any) and measures it: `#length` and `#data` (zod's
   * output under validate "full"). A catalogued event is measured by its compiled codec, whose
   * own type checks are validate "shape"; data that does not fit is refused, naming the path
   * (under "off" it travels by the generic codec instead).
   */
  #measure(event: BusEvent): void {
    const { system, kind, path } = event;
    const encoder = this.#encoder;
    const max = this.ring.maxRecordBytes;
    const catalogue = this.#catalogue;
    const events = catalogue.events;
    if (events === null) {
      this.#data = event.data;
      this.#length = encoder.measureSend(system, kind, path, event.data, max);
      return;
    }
    // The last (system, kind) looked up: a stream repeats it, and two Map look-ups cost more
    // than comparing the same string objects.
    if (system !== this.#lastSystem || kind !== this.#lastKind) {
      this.#lastEntry = events.entry(system, kind);
      this.#lastCodec = this.#lastEntry === undefined ? null : this.codecs!.codec(this.#lastEntry.id);
      this.#lastSystem = system;
      this.#lastKind = kind;
    }
    const entry = this.#lastEntry;
    const codec = this.#lastCodec;
    const data = checkCatalogued(entry, event, catalogue.validate, catalogue.uncatalogued, codec !== null);
    this.#data = data;
    if (codec !== null) {
      const length = encoder.measureSend(system, kind, path, data, max, codec, COMPILED_TAG + entry!.id);
      if (length >= 0) {
        this.#length = length;
        return;
      }
      if (catalogue.validate !== "off") {
        const fault = shapeFault(entry!.shape!, data) ?? { path: [], message: "does not fit its schema" };
        throw faultError("data", fault);
      }
    }
    this.#length = encoder.measureSend(system, kind, path, data, max);
  }

  #full(): boolean {
    if (this.#onFull === "drop") {
      this.#counters[this.#mine + kClientRefused]!++;
      return false;
    }
    const waited = this.#onFull === "wait" ? ` after waiting ${this.config.maxWaitMs} ms` : "";
    throw new BusFullError(`bus is full: the ring (or every abort slot) has no room${waited}`);
  }

  #settle(): void {
    const waiting = this.#onFinished;
    this.#onFinished = [];
    for (const resolve of waiting) resolve();
    this.#keepAlive();
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
    if (message.type === "space") {
      const waiters = this.#spaceWaiters;
      this.#spaceWaiters = [];
      for (const resolve of waiters) resolve();
      return;
    }
    if (message.type === "removed") {
      this.#subscriptions.get(message.id)?.removed();
      return;
    }
    const pending = this.#pending.get(message.token);
    if (pending === undefined) return;
    this.#forget(message.token);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(toError(message.error));
  }

  #forget(token: number): void {
    this.#pending.delete(token);
    this.#keepAlive();
  }

  /** The control port holds the event loop open while a reply is awaited or room is waited for. */
  #keepAlive(): void {
    if (this.#pending.size > 0 || this.#roomWaits > 0 || this.#onFinished.length > 0) this.control.ref();
    else this.control.unref();
  }

  #expect(token: number): Promise<number> {
    const promise = new Promise<number>((resolve, reject) => {
      if (this.#failure) reject(this.#failure);
      else {
        this.#pending.set(token, { resolve, reject });
        this.#keepAlive();
      }
    });
    promise.catch(() => undefined);
    return promise;
  }

  /**
   * Control records never fail for lack of room: they wait (asynchronously) until it comes, or
   * until `deadline` (a performance.now() time) if one is given. False if the ring is closed.
   */
  async #enqueueControl(
    type: number,
    encode: () => number,
    deadline = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      const length = encode();
      const offset = this.ring.tryClaim(length, this.config.client);
      if (offset === CLAIM_CLOSED) return false;
      if (offset >= 0) {
        this.#copyRecord(offset, length);
        this.#counters[this.#mine + kClientPublished]!++;
        if (this.ring.publish(offset, length, type)) return true;
        this.#counters[this.#mine + kClientPublished]!--;
        continue;
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      if (Number.isFinite(left)) {
        const timeout = new AbortController();
        const timer = setTimeout(() => timeout.abort(), left);
        await this.ready(timeout.signal).catch(() => undefined);
        clearTimeout(timer);
      } else await this.ready();
    }
  }

  /**
   * Copies an encoded record into its claimed space, frame excluded: the frame's length word is
   * the publish flag, written last by Ring.publish; copying it too would publish the record early.
   */
  #copyRecord(offset: number, length: number): void {
    this.ring.bytes.set(this.#encoder.bytes.subarray(FRAME_BYTES, length), offset + FRAME_BYTES);
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
