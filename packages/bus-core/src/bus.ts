import {
  type Action,
  ActionQueue,
  ControlAction,
  FlushAction,
  SignalledSend,
  StopAction,
  SubscribeAction,
  UnsubscribeAction,
} from "./action_queue.js";
import { type CatalogueEntry, checkCatalogued } from "./catalogue.js";
import type { CatalogueLike, catalogueType, SendEvent, SubscriptionFor, Untyped } from "./catalogue_types.js";
import {
  AbortError,
  BusClosedError,
  BusFullError,
  InvalidOptionsError,
  SubscriberCapError,
} from "./errors.js";
import { assertBusEvent, type BusEvent } from "./event.js";
import {
  type BusInspection,
  matchCacheInspection,
  type SubscriptionInspection,
  slowestSubscriptions,
} from "./inspection.js";
import {
  type BusOptions,
  type ResolvedBusOptions,
  resolveBusOptions,
  resolveSendSignal,
  resolveStopOptions,
  resolveSubscribeOptions,
} from "./options.js";
import { PatternWarnings } from "./pattern_warnings.js";
import { StopSequence } from "./stop.js";
import { BufferedSubscription } from "./subscription.js";
import { type IndexEntry, SubscriptionIndex } from "./subscription_index.js";
import type { BusStats, EventBus, SendOptions, StopOptions, SubscribeOptions } from "./types.js";

type Entry = IndexEntry<BufferedSubscription>;

/**
 * Where the dispatcher is in the bus's life (it checks once per action): Running; Expired, when
 * stop's deadline passed before the dispatcher reached Stop (queued sends are dropped and
 * counted); Stopped, once Stop is applied (every subscription ended; the rest is drained).
 */
const Phase = { Running: 0, Expired: 1, Stopped: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/**
 * The in-thread bus: one action queue drained by one dispatcher loop, so there are no locks and
 * no races. See GUARANTEES.md for the rules it keeps; the worker bus keeps the same rules.
 */
export class Bus<C extends CatalogueLike = Untyped> implements EventBus<C> {
  declare readonly [catalogueType]?: C;
  readonly #options: ResolvedBusOptions;
  readonly #patternWarnings: PatternWarnings;
  readonly #queue = new ActionQueue();
  readonly #index: SubscriptionIndex<BufferedSubscription>;
  #scheduled = false;
  #closed = false;
  #phase: Phase = Phase.Running;
  #stop: StopSequence | null = null;
  #nextId = 0;
  readonly #stats = { sent: 0, delivered: 0, dropped: 0, droppedOnStop: 0, refused: 0, aborted: 0 };
  /** Drops of subscriptions that are gone, so stats().dropped never goes backwards. */
  #droppedByGone = 0;
  readonly #startedAt = performance.now();
  /** The "block" subscription delivery waits on now, for inspect(). */
  #waitingOn: BufferedSubscription | null = null;
  /** Events routed and the time at the previous inspect(), for its `recent` rate. */
  #lastInspect = { read: 0, at: performance.now() };
  readonly #run = () => {
    void this.#drain();
  };

  /** With `events`, the bus is typed by that catalogue (see defineEvents). */
  constructor(options: BusOptions & { events: C });
  constructor(options?: BusOptions);
  constructor(options?: BusOptions) {
    this.#options = resolveBusOptions(options);
    this.#patternWarnings = new PatternWarnings(this.#options.logger);
    this.#index = new SubscriptionIndex({ cacheSize: this.#options.cacheSize });
  }

  get closed(): boolean {
    return this.#closed;
  }

  async subscribe<D = unknown, S extends string = string, K extends string = string>(
    system: S,
    kind?: K,
    options?: SubscribeOptions,
  ): Promise<SubscriptionFor<C, S, K, D>> {
    if (this.#closed) throw new BusClosedError();
    const resolved = resolveSubscribeOptions(options);
    const id = `sub.${++this.#nextId}`;
    const subscription = new BufferedSubscription(id, system, kind ?? "", resolved, (sub) =>
      this.#closeSubscription(sub),
    );
    // Compiling here, on the caller's side, makes a bad pattern reject before anything is queued.
    const entry = SubscriptionIndex.compile(id, system, kind, subscription, resolved.path);
    this.#patternWarnings.check(system, kind);
    const signal = resolved.signal;
    if (!signal) {
      const applied = await new Promise<BufferedSubscription>((resolve, reject) => {
        this.#enqueue(new SubscribeAction(entry as Entry, resolve, reject));
      });
      return applied as unknown as SubscriptionFor<C, S, K, D>;
    }
    return (await this.#subscribeWithSignal(entry as Entry, signal)) as unknown as SubscriptionFor<
      C,
      S,
      K,
      D
    >;
  }

  /**
   * A signal that aborts while the subscribe is queued cancels it: the promise rejects with
   * AbortError at once and the dispatcher skips it, so no subscription is ever made. Aborted
   * later, it closes the subscription.
   */
  async #subscribeWithSignal(entry: Entry, signal: AbortSignal): Promise<BufferedSubscription> {
    if (signal.aborted) throw new AbortError("subscribe aborted", { cause: signal.reason });
    let action!: SubscribeAction;
    const pending = new Promise<BufferedSubscription>((resolve, reject) => {
      action = new SubscribeAction(entry, resolve, reject);
    });
    const cancel = () => action.cancel(new AbortError("subscribe aborted", { cause: signal.reason }));
    signal.addEventListener("abort", cancel, { once: true });
    this.#enqueue(action);
    let applied: BufferedSubscription;
    try {
      applied = await pending;
    } finally {
      signal.removeEventListener("abort", cancel);
    }
    const close = () => void applied.close();
    if (signal.aborted) {
      // Aborted between the dispatcher applying it and this continuation: the caller never sees it.
      close();
      throw new AbortError("subscribe aborted", { cause: signal.reason });
    }
    signal.addEventListener("abort", close, { once: true });
    applied.onEnd(() => signal.removeEventListener("abort", close));
    return applied;
  }

  unsubscribe(id: string): Promise<boolean> {
    if (typeof id !== "string") {
      return Promise.reject(
        new InvalidOptionsError(`id: must be a subscription id string, got ${typeof id}`, "id"),
      );
    }
    if (this.#stop?.finished) return Promise.resolve(false);
    return new Promise((resolve) => this.#enqueue(new UnsubscribeAction(id, resolve)));
  }

  send<D = unknown>(input: SendEvent<C, D>, options?: SendOptions): boolean {
    let event = input as BusEvent;
    assertBusEvent(event);
    const catalogue = this.#options.catalogue;
    if (catalogue.events !== null) {
      const entry: CatalogueEntry | undefined = catalogue.events.entry(event.system, event.kind);
      const data = checkCatalogued(entry, event, catalogue.validate, catalogue.uncatalogued);
      // "full" sends zod's output (defaults filled in, unknown keys stripped), as a new event.
      if (data !== event.data) event = { system: event.system, kind: event.kind, path: event.path, data };
    }
    const signal = resolveSendSignal(options);
    if (this.#closed) return false;
    if (signal?.aborted) {
      this.#stats.refused++;
      return false;
    }
    if (this.#queue.length >= this.#options.maxQueue) {
      if (this.#options.onFull === "throw") throw new BusFullError();
      this.#stats.refused++;
      return false;
    }
    this.#enqueue(signal ? new SignalledSend(event, signal) : event);
    this.#stats.sent++;
    return true;
  }

  flush(): Promise<void> {
    if (this.#stop?.finished) return Promise.resolve();
    return new Promise((resolve) => this.#enqueue(new FlushAction(resolve)));
  }

  /**
   * Closes the bus at once and queues Stop behind everything accepted so far, which is delivered
   * before the iterators end, within `options.timeoutMs` (default 5000): see StopOptions.
   */
  stop(options?: StopOptions): Promise<void> {
    let timeoutMs: number;
    try {
      timeoutMs = resolveStopOptions(options).timeoutMs;
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#stop) {
      this.#stop.shorten(timeoutMs);
      return this.#stop.promise;
    }
    this.#closed = true;
    this.#stop = new StopSequence(timeoutMs, () => this.#expireStop());
    this.#enqueue(new StopAction());
    return this.#stop.promise;
  }

  stats(): BusStats {
    let dropped = this.#droppedByGone;
    for (const entry of this.#index.entries()) dropped += entry.value.overflowDropped;
    return {
      ...this.#stats,
      dropped,
      subscriptions: this.#index.size,
      queued: this.#queue.length,
    };
  }

  /**
   * A snapshot of the bus in the shape both buses share (see inspection.ts): subscriptions with
   * their counters, the action queue's occupancy, rates and the match cache. For dashboards
   * (`@threadbus/monitor`), not hot paths: it copies every subscription.
   */
  inspect(): BusInspection {
    const stats = this.stats();
    const subscriptions = [...this.#index.entries()].map(({ value, path }): SubscriptionInspection => {
      const counters = value.stats();
      return {
        id: value.id,
        system: value.system,
        kind: value.kind,
        path: path?.source ?? null,
        overflow: value.overflow,
        bufferSize: value.bufferSize,
        buffered: counters.buffered,
        delivered: counters.delivered,
        dropped: counters.dropped,
        client: 0,
      };
    });
    // The dispatcher looks each routed send up in the index once, so lookups are the events read.
    const lookups = this.#index.lookups;
    const read = lookups.hits + lookups.misses;
    const now = performance.now();
    const recent = ((read - this.#lastInspect.read) * 1000) / Math.max(1, now - this.#lastInspect.at);
    this.#lastInspect = { read, at: now };
    const uptimeMs = now - this.#startedAt;
    const maxQueue = this.#options.maxQueue;
    return {
      bus: "Bus",
      uptimeMs,
      stats,
      subscriptions,
      clients: [{ client: 0, subscriptions: subscriptions.length, sent: stats.sent, refused: stats.refused }],
      queue: { unit: "actions", capacity: maxQueue, used: stats.queued, occupancy: stats.queued / maxQueue },
      eventsRead: read,
      eventsPerSecond: { sinceStart: (read * 1000) / Math.max(1, uptimeMs), recent },
      slowest: slowestSubscriptions(subscriptions),
      blockedOn: this.#waitingOn?.id ?? null,
      lostSubscribers: 0,
      // The dispatcher shares the caller's thread: there is no CPU time of its own to report.
      dispatcherCpuMs: null,
      matchCache: matchCacheInspection({
        hits: lookups.hits,
        misses: lookups.misses,
        entries: lookups.cacheEntries,
        capacity: lookups.cacheSize,
      }),
      fanOut: read === 0 ? 0 : lookups.matched / read,
    };
  }

  #enqueue(action: Action): void {
    this.#queue.push(action);
    if (!this.#scheduled) {
      // One wakeup per burst: every send until the dispatcher runs rides on this microtask.
      this.#scheduled = true;
      queueMicrotask(this.#run);
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.take();
      for (let i = 0; i < batch.length; i++) {
        const action = batch[i]!;
        if (this.#phase === Phase.Running) {
          const blocked = this.#apply(action);
          if (blocked !== undefined) await blocked;
        } else if (this.#phase === Phase.Expired) this.#applyExpired(action);
        else this.#applyClosed(action);
      }
      this.#queue.recycle(batch);
    }
    this.#scheduled = false;
    if (this.#phase === Phase.Stopped) this.#stop!.finish();
  }

  /** Applies one action; returns a promise only when a "block" subscriber holds delivery up. */
  #apply(action: Action): Promise<void> | undefined {
    if (!(action instanceof ControlAction)) return this.#deliver(action, undefined);
    if (action instanceof SubscribeAction) this.#applySubscribe(action);
    else if (action instanceof UnsubscribeAction) action.resolve(this.#removeSubscription(action.id));
    else if (action instanceof FlushAction) action.resolve();
    else if (action instanceof SignalledSend) return this.#deliver(action.event, action.signal);
    else if (action instanceof StopAction) this.#applyStop();
    return undefined;
  }

  /** Stop's deadline passed: the sends still queued before Stop are dropped and counted. */
  #applyExpired(action: Action): void {
    if (!(action instanceof ControlAction) || action instanceof SignalledSend) this.#stats.droppedOnStop++;
    else this.#apply(action);
  }

  /**
   * After Stop, what was queued behind it: subscribes reject (none can be: subscribe checks
   * `closed` first), unsubscribes and flushes resolve, sends are counted (none can be either).
   */
  #applyClosed(action: Action): void {
    if (action instanceof SubscribeAction) action.reject(new BusClosedError());
    else if (action instanceof UnsubscribeAction) action.resolve(false);
    else if (action instanceof FlushAction) action.resolve();
    else if (!(action instanceof ControlAction) || action instanceof SignalledSend)
      this.#stats.droppedOnStop++;
  }

  /** Stop, in order: every subscription ends; its iterator yields what it holds, then ends. */
  #applyStop(): void {
    this.#phase = Phase.Stopped;
    for (const entry of [...this.#index.entries()]) this.#removeSubscription(entry.id);
  }

  /**
   * Stop's deadline passed with sends still undelivered: no subscription may hold the dispatcher
   * any more (the event in delivery goes past full buffers), and the sends queued before Stop
   * are dropped and counted.
   */
  #expireStop(): void {
    if (this.#phase === Phase.Running) this.#phase = Phase.Expired;
    for (const entry of this.#index.entries()) entry.value.release();
  }

  #applySubscribe(action: SubscribeAction): void {
    if (action.cancelled) return;
    if (this.#index.size >= this.#options.maxSubscribers) {
      action.reject(new SubscriberCapError(this.#options.maxSubscribers));
      return;
    }
    this.#index.insert(action.entry);
    action.resolve(action.entry.value);
  }

  #removeSubscription(id: string): boolean {
    const entry = this.#index.remove(id);
    if (!entry) return false;
    this.#droppedByGone += entry.value.overflowDropped;
    entry.value.end();
    return true;
  }

  #closeSubscription(subscription: BufferedSubscription): Promise<void> {
    return this.unsubscribe(subscription.id).then(() => subscription.end());
  }

  #deliver(event: BusEvent, signal: AbortSignal | undefined): Promise<void> | undefined {
    // Path filters are applied by the index: every entry it returns matches the whole event.
    const entries = this.#index.route(event.system, event.kind, event.path);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (signal?.aborted) {
        this.#skipAborted(entries, i);
        return undefined;
      }
      const subscription = entry.value;
      const before = subscription.deliveredCount;
      if (!subscription.offer(event)) return this.#deliverBlocked(entries, i, event, signal);
      // A drop-newest drop is accepted (offer returns true) but delivered nowhere.
      if (subscription.deliveredCount !== before) this.#stats.delivered++;
    }
    return undefined;
  }

  /** The slow path: subscriber `from` is full under "block"; wait for room, then go on in order. */
  async #deliverBlocked(
    entries: readonly Entry[],
    from: number,
    event: BusEvent,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    for (let i = from; i < entries.length; i++) {
      const entry = entries[i]!;
      if (signal?.aborted) {
        this.#skipAborted(entries, i);
        return;
      }
      const subscription = entry.value;
      const before = subscription.deliveredCount;
      while (!subscription.offer(event)) {
        await this.#waitForRoom(subscription, signal);
        if (signal?.aborted) {
          this.#skipAborted(entries, i);
          return;
        }
      }
      if (subscription.deliveredCount !== before) this.#stats.delivered++;
    }
  }

  async #waitForRoom(subscription: BufferedSubscription, signal: AbortSignal | undefined): Promise<void> {
    this.#waitingOn = subscription;
    if (this.#phase !== Phase.Running) subscription.release();
    const slow = setTimeout(() => {
      this.#options.logger.warn(
        `threadbus: subscriber ${subscription.id} (${subscription.system} ${subscription.kind || "*"}) has blocked the dispatcher for ${this.#options.slowSubscriberMs} ms: its buffer of ${subscription.bufferSize} is full; it is slow, or not iterated`,
      );
    }, this.#options.slowSubscriberMs);
    slow.unref?.();
    try {
      if (!signal) await subscription.waitForRoom();
      else {
        let onAbort: (() => void) | undefined;
        await Promise.race([
          subscription.waitForRoom(),
          new Promise<void>((resolve) => {
            onAbort = resolve;
            signal.addEventListener("abort", onAbort, { once: true });
          }),
        ]);
        if (onAbort) signal.removeEventListener("abort", onAbort);
      }
    } finally {
      clearTimeout(slow);
      this.#waitingOn = null;
    }
  }

  #skipAborted(entries: readonly Entry[], from: number): void {
    for (let i = from; i < entries.length; i++) {
      const entry = entries[i]!;
      entry.value.countAborted();
      this.#stats.aborted++;
    }
  }
}
