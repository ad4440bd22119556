import type { CatalogueLike, catalogueType, SendEvent, SubscriptionFor, Untyped } from "./catalogue_types.js";
import type { BusEvent } from "./event.js";

/**
 * What a subscription does when its buffer is full:
 * - "block" (default): the dispatcher waits for room, so back-pressure reaches publishers;
 * - "drop-oldest": the oldest buffered event is dropped to make room (counted);
 * - "drop-newest": the incoming event is dropped (counted).
 */
export type OverflowPolicy = "block" | "drop-oldest" | "drop-newest";

export interface SubscribeOptions {
  /** Events buffered for this subscription before `overflow` applies. Default 1024. */
  bufferSize?: number;
  overflow?: OverflowPolicy;
  /** Aborting the signal removes the subscription (its iterator ends). */
  signal?: AbortSignal;
  /** A minimatch glob on `event.path`, compiled once; applied after system/kind match. */
  path?: string;
}

export interface SendOptions {
  /** Aborted while the event's deliveries are in progress, the remaining subscribers are skipped. */
  signal?: AbortSignal;
}

export interface StopOptions {
  /**
   * How long, in ms, stop() lets the dispatcher deliver what was accepted before it (default
   * 5000, DEFAULT_STOP_TIMEOUT_MS; an integer from 0 to 2^31 - 1). Only a "block" subscriber that
   * does not read can make it wait; when the time is up, the event in delivery is placed beyond
   * the full buffers, every send still queued is dropped and counted in `stats().droppedOnStop`,
   * and stop() resolves. 0 delivers what needs no waiting and drops the rest.
   */
  timeoutMs?: number;
}

export interface SubscriptionStats {
  /** Events placed in this subscription's buffer. */
  delivered: number;
  /** Events the consumer has taken out of the buffer. */
  received: number;
  /**
   * Events this subscription did not get: dropped by its overflow policy, or skipped because a
   * send's signal aborted mid-delivery (the bus counts those apart, in `stats().aborted`).
   */
  dropped: number;
  /** Events waiting in the buffer now. */
  buffered: number;
}

/**
 * A live subscription: iterate it with `for await`, once. Breaking out of the loop closes it.
 * After close (or bus stop) the iterator yields what is already buffered, then ends.
 */
export interface Subscription<D = unknown, E extends BusEvent<unknown> = BusEvent<D>>
  extends AsyncIterable<E> {
  readonly id: string;
  /** System and kind patterns as given to subscribe (kind "" means every kind). */
  readonly system: string;
  readonly kind: string;
  readonly closed: boolean;
  /** Unsubscribes; resolves once the dispatcher applied it. Idempotent. */
  close(): Promise<void>;
  stats(): SubscriptionStats;
  /**
   * Optional fast path for callback consumers: every buffered event at once (waits for one);
   * null once the subscription ended. Use either this or the iterator, not both.
   */
  nextBatch?(): Promise<E[] | null>;
}

export interface BusStats {
  /** Events accepted by send(). */
  sent: number;
  /** Deliveries made into subscription buffers (one event to three subscribers counts three). */
  delivered: number;
  /**
   * Deliveries dropped by overflow policies ("drop-oldest", "drop-newest"), summed over all
   * subscriptions, live and gone. Deliveries skipped by an aborted send are in `aborted`, not here.
   */
  dropped: number;
  /** Sends accepted before stop() and dropped undelivered because stop's `timeoutMs` ran out. */
  droppedOnStop: number;
  /** Sends refused because the queue was full (onFull "drop"), or because the send's signal was already aborted. */
  refused: number;
  /** Deliveries skipped because a send's signal aborted mid-delivery. */
  aborted: number;
  /** Live subscriptions now. */
  subscriptions: number;
  /** Actions waiting for the dispatcher now. */
  queued: number;
}

/**
 * The interface both buses implement (the in-thread `Bus` and the worker `WorkerBus`), and the
 * only thing the helpers (Subscriber, EventRouter, Awaiter) depend on.
 *
 * `C` is the catalogue the bus was built with (see defineEvents): send() then takes only
 * catalogued events, and subscribe() yields the union of the events its patterns match. Without
 * one (`Untyped`), data is `unknown`, or the `D` a call names.
 */
export interface EventBus<C extends CatalogueLike = Untyped> {
  /** Type only: carries the catalogue for inference; never set. */
  readonly [catalogueType]?: C;
  readonly closed: boolean;
  /**
   * Subscribes to events whose system matches `system` and whose kind matches `kind` (omitted or
   * "" = every kind). Resolves once the dispatcher applied it: any event sent after the promise
   * resolved is delivered to this subscription if it matches.
   */
  subscribe<D = unknown, S extends string = string, K extends string = string>(
    system: S,
    kind?: K,
    options?: SubscribeOptions,
  ): Promise<SubscriptionFor<C, S, K, D>>;
  /** Resolves true if the subscription existed, once the dispatcher removed it. */
  unsubscribe(id: string): Promise<boolean>;
  /** Fire-and-forget: returns true once the event is enqueued, false if the bus refused it. */
  send<D = unknown>(event: SendEvent<C, D>, options?: SendOptions): boolean;
  /** Resolves once every action enqueued before this call has been processed by the dispatcher. */
  flush(): Promise<void>;
  /**
   * Stops the bus, in order: `closed` is true at once (send returns false, subscribe rejects
   * BusClosedError), and everything accepted before the call is applied and delivered before the
   * iterators end, within `options.timeoutMs` (see StopOptions). Resolves when the dispatcher has
   * finished. Idempotent: a later call returns the same promise (a shorter timeout brings the
   * deadline forward).
   */
  stop(options?: StopOptions): Promise<void>;
  stats(): BusStats;
}

/** The logger the helpers and buses write to; `console` fits. */
export interface Logger {
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}
