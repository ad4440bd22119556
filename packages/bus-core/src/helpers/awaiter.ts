import { AbortError, BusClosedError, InvalidOptionsError, TimeoutError } from "../errors.js";
import type { BusEvent } from "../event.js";
import type { EventBus, Subscription } from "../types.js";

export interface PrepareOptions {
  /** Default 30000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface AwaitResult<D = unknown> {
  event: BusEvent<D>;
  /** The kind is `accept`, or ends with `.accept` / `.accepted`, and the data carries no error. */
  accepted: boolean;
  /** An error carried by the event's data (`data.error`, a string or `{ message }`). */
  error?: Error;
}

export interface Waiter<D = unknown> {
  readonly path: string;
  /** Resolves with the first matching event for this path; rejects with TimeoutError or AbortError. */
  wait(): Promise<AwaitResult<D>>;
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
  if (typeof data !== "object" || data === null || !("error" in data)) return undefined;
  const error = (data as { error: unknown }).error;
  if (error === undefined || error === null || error === false) return undefined;
  if (typeof error === "string") return new Error(error);
  if (typeof error === "object" && typeof (error as { message?: unknown }).message === "string") {
    return new Error((error as { message: string }).message);
  }
  return new Error(String(error));
}

/**
 * Waits for the answer to a request made through the bus: `prepare(path)` subscribes *before*
 * the triggering event is sent (so the answer cannot be missed), then `wait()` resolves with the
 * first event for that path. All waiters of one Awaiter share a single subscription.
 */
export class Awaiter {
  readonly #bus: EventBus;
  readonly #system: string;
  readonly #kind: string | undefined;
  #subscription: Promise<Subscription> | null = null;
  readonly #waiting = new Map<string, Set<Pending>>();
  #closed = false;

  constructor(bus: EventBus, system: string, kind?: string) {
    this.#bus = bus;
    this.#system = system;
    this.#kind = kind;
  }

  /** Subscribes (once per Awaiter) and registers a waiter for `path`. Await it before sending the trigger. */
  async prepare<D = unknown>(path: string, options: PrepareOptions = {}): Promise<Waiter<D>> {
    if (this.#closed) throw new BusClosedError("awaiter is closed");
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new InvalidOptionsError("options.timeoutMs: must be a positive number", "options.timeoutMs");
    }
    if (typeof path !== "string") throw new InvalidOptionsError("path: must be a string", "path");
    const signal = options.signal;
    if (signal?.aborted) throw new AbortError("prepare aborted", { cause: signal.reason });
    await this.#ensureSubscribed();

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
      wait: () => result as Promise<AwaitResult<D>>,
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

  #ensureSubscribed(): Promise<Subscription> {
    if (!this.#subscription) {
      this.#subscription = this.#bus.subscribe(this.#system, this.#kind, {
        overflow: "drop-oldest",
        bufferSize: 4096,
      });
      this.#subscription.then(
        (subscription) => void this.#route(subscription),
        () => {
          this.#subscription = null;
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
