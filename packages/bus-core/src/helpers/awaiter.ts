import { z } from "zod";
import type { CatalogueLike, SubscribedEvent, Untyped } from "../catalogue_types.js";
import { AbortError, BusClosedError, InvalidOptionsError, TimeoutError } from "../errors.js";
import type { BusEvent } from "../event.js";
import { abortSignalSchema, assertEventBus, parseOptions, timeoutMsSchema } from "../options.js";
import { compilePattern } from "../pattern.js";
import type { EventBus, Subscription } from "../types.js";

export interface PrepareOptions {
  /** Default 30000; an integer from 1 to 2^31 - 1. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const prepareOptionsSchema = z.strictObject({
  timeoutMs: timeoutMsSchema(1).optional(),
  signal: abortSignalSchema.optional(),
});

export interface AwaitResult<D = unknown, E extends BusEvent<unknown> = BusEvent<D>> {
  event: E;
  /** The kind is `accept`, or ends with `.accept` / `.accepted`, and the data carries no error. */
  accepted: boolean;
  /** An error carried by the event's data (`data.error`, a string or `{ message }`). */
  error?: Error;
}

export interface Waiter<D = unknown, E extends BusEvent<unknown> = BusEvent<D>> {
  readonly path: string;
  /** Resolves with the first matching event for this path; rejects with TimeoutError or AbortError. */
  wait(): Promise<AwaitResult<D, E>>;
  /** Gives up waiting (the waiter rejects with AbortError). */
  cancel(): void;
}

interface Pending {
  resolve(result: AwaitResult): void;
  reject(error: unknown): void;
}

function isAccepted(kind: string): boolean {
  return kind === "accept" || kind.endsWith(".accept") || kind.endsWith(".accepted") || kind === "accepted";
}

function carriedError(data: unknown): Error | undefined {
  try {
    if (typeof data !== "object" || data === null || !("error" in data)) return undefined;
    const error = (data as { error: unknown }).error;
    if (error === undefined || error === null || error === false) return undefined;
    if (typeof error === "string") return new Error(error);
    if (typeof error === "object" && typeof (error as { message?: unknown }).message === "string") {
      return new Error((error as { message: string }).message);
    }
    return new Error(String(error));
  } catch (cause) {
    // Event data comes from any publisher: one that cannot be read must not end the awaiter.
    return new Error("the event carries an error that could not be read", { cause });
  }
}

/**
 * Waits for the answer to a request made through the bus: `prepare(path)` subscribes *before*
 * the triggering event is sent (so the answer cannot be missed), then `wait()` resolves with the
 * first event for that path. All waiters of one Awaiter share a single subscription. On a bus
 * typed by a catalogue, the events waited for are the catalogued ones the patterns match.
 */
export class Awaiter<
  C extends CatalogueLike = Untyped,
  S extends string = string,
  K extends string = string,
> {
  readonly #bus: EventBus;
  readonly #system: string;
  readonly #kind: string | undefined;
  #subscription: Promise<Subscription> | null = null;
  readonly #waiting = new Map<string, Set<Pending>>();
  #closed = false;

  /** Throws InvalidOptionsError for something that is not a bus, InvalidPatternError for a bad pattern. */
  constructor(bus: EventBus<C>, system: S, kind?: K) {
    assertEventBus(bus);
    compilePattern(system);
    if (kind !== undefined) compilePattern(kind);
    this.#bus = bus as unknown as EventBus;
    this.#system = system;
    this.#kind = kind;
  }

  /**
   * Subscribes (once per Awaiter) and registers a waiter for `path`. Await it before sending the
   * trigger. Rejects with BusClosedError at once once the bus is stopped (no answer can come).
   */
  async prepare<D = unknown>(
    path: string,
    options?: PrepareOptions,
  ): Promise<Waiter<D, SubscribedEvent<C, S, K, D>>> {
    if (this.#closed) throw new BusClosedError("awaiter is closed");
    if (typeof path !== "string") throw new InvalidOptionsError("path: must be a string", "path");
    const parsed = parseOptions(prepareOptionsSchema, options);
    const timeoutMs = parsed.timeoutMs ?? 30_000;
    const signal = parsed.signal;
    if (signal?.aborted) throw new AbortError("prepare aborted", { cause: signal.reason });
    await this.#subscribed();

    let settle!: Pending;
    const result = new Promise<AwaitResult>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Attach a handler now so a rejection nobody awaited yet is not reported as unhandled.
    result.catch(() => {});
    let set = this.#waiting.get(path);
    if (!set) {
      set = new Set();
      this.#waiting.set(path, set);
    }
    const waiters = set;
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      waiters.delete(pending);
      if (waiters.size === 0 && this.#waiting.get(path) === waiters) this.#waiting.delete(path);
    };
    const pending: Pending = {
      resolve: (value) => {
        finish();
        settle.resolve(value);
      },
      reject: (error) => {
        finish();
        settle.reject(error);
      },
    };
    const timer = setTimeout(
      () =>
        pending.reject(
          new TimeoutError(`no ${this.#system} event for '${path}' within ${timeoutMs} ms`, timeoutMs),
        ),
      timeoutMs,
    );
    const onAbort = () => pending.reject(new AbortError("wait aborted", { cause: signal?.reason }));
    signal?.addEventListener("abort", onAbort, { once: true });
    waiters.add(pending);
    return {
      path,
      wait: () => result as unknown as Promise<AwaitResult<D, SubscribedEvent<C, S, K, D>>>,
      cancel: () => pending.reject(new AbortError("wait cancelled")),
    };
  }

  /** Waiters still pending. */
  get pending(): number {
    let count = 0;
    for (const set of this.#waiting.values()) count += set.size;
    return count;
  }

  /** Closes the shared subscription; pending waiters reject with AbortError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const subscription = this.#subscription;
    this.#rejectAll(new AbortError("awaiter closed"));
    if (subscription) await (await subscription.catch(() => null))?.close();
  }

  /**
   * The shared subscription, live. A stopped bus rejects BusClosedError (the trigger could not be
   * sent, so waiting would only run into the timeout); a subscription that ended while the bus
   * is open (someone unsubscribed it) is replaced.
   */
  async #subscribed(): Promise<Subscription> {
    for (;;) {
      if (this.#bus.closed) throw new BusClosedError();
      const pending = this.#ensureSubscribed();
      const subscription = await pending;
      if (this.#bus.closed) throw new BusClosedError();
      if (this.#closed) throw new BusClosedError("awaiter is closed");
      if (!subscription.closed) return subscription;
      if (this.#subscription === pending) this.#subscription = null;
    }
  }

  #ensureSubscribed(): Promise<Subscription> {
    if (!this.#subscription) {
      this.#subscription = this.#bus.subscribe(this.#system, this.#kind, {
        overflow: "drop-oldest",
        bufferSize: 4096,
      });
      const pending = this.#subscription;
      pending.then(
        (subscription) =>
          void this.#route(subscription).finally(() => {
            if (this.#subscription === pending) this.#subscription = null;
          }),
        () => {
          if (this.#subscription === pending) this.#subscription = null;
        },
      );
    }
    return this.#subscription;
  }

  async #route(subscription: Subscription): Promise<void> {
    try {
      for await (const event of subscription) {
        const waiters = this.#waiting.get(event.path);
        if (!waiters) continue;
        const error = carriedError(event.data);
        const result: AwaitResult = { event, accepted: error === undefined && isAccepted(event.kind) };
        if (error) result.error = error;
        for (const pending of [...waiters]) pending.resolve(result);
      }
      this.#rejectAll(new BusClosedError("the awaiter's subscription ended (bus stopped)"));
    } catch (error) {
      this.#rejectAll(error);
    }
  }

  #rejectAll(error: unknown): void {
    for (const set of [...this.#waiting.values()]) for (const pending of [...set]) pending.reject(error);
  }
}
