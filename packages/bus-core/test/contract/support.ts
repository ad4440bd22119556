import type { BusEvent, EventBus, Subscription } from "../../src/index.js";

export interface ContractBusOptions {
  maxSubscribers?: number;
}

export type MakeBus = (options?: ContractBusOptions) => Promise<EventBus> | EventBus;

/**
 * What the bus under test implements yet. Every flag defaults to true; a bus that passes false
 * skips those tests until it catches up (a flag is temporary: the contract is the same for all).
 */
export interface ContractSuiteOptions {
  /** Stop is ordered (what was accepted before stop() is delivered) and takes `{ timeoutMs }`. */
  orderedStop?: boolean;
  /** A subscribe whose signal aborts while it is pending rejects ABORT_ERR and leaves no subscription. */
  abortPendingSubscribe?: boolean;
}

/** Starts buses for one test and stops every one of them afterwards. */
export class BusPool {
  readonly #buses: EventBus[] = [];
  constructor(readonly make: MakeBus) {}

  async create(options?: ContractBusOptions): Promise<EventBus> {
    const bus = await this.make(options);
    this.#buses.push(bus);
    return bus;
  }

  /** A test that leaves a "block" subscriber unread must not cost stop's whole default timeout. */
  async stopAll(): Promise<void> {
    await Promise.all(this.#buses.splice(0).map((bus) => bus.stop({ timeoutMs: 1000 })));
  }
}

/** Reads a subscription through its single iterator, a few events at a time. */
export class Reader<D = unknown> {
  readonly #iterator: AsyncIterator<BusEvent<D>>;
  constructor(readonly subscription: Subscription<D>) {
    this.#iterator = subscription[Symbol.asyncIterator]();
  }

  async take(count: number, timeoutMs = 10_000): Promise<BusEvent<D>[]> {
    const out: BusEvent<D>[] = [];
    while (out.length < count) {
      const next = await withTimeout(
        this.#iterator.next(),
        timeoutMs,
        `waiting for event ${out.length + 1} of ${count}`,
      );
      if (next.done) throw new Error(`subscription ended after ${out.length} of ${count} events`);
      out.push(next.value);
    }
    return out;
  }

  /** Resolves with every event until the iterator ends. */
  async rest(timeoutMs = 10_000): Promise<BusEvent<D>[]> {
    const out: BusEvent<D>[] = [];
    for (;;) {
      const next = await withTimeout(this.#iterator.next(), timeoutMs, "waiting for the subscription to end");
      if (next.done) return out;
      out.push(next.value);
    }
  }

  next(timeoutMs = 10_000): Promise<IteratorResult<BusEvent<D>>> {
    return withTimeout(this.#iterator.next(), timeoutMs, "waiting for next()");
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves false if `promise` has not settled after `ms` (used to prove something is still waiting). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

export function event(system: string, kind: string, path = "", data?: unknown): BusEvent {
  return data === undefined ? { system, kind, path } : { system, kind, path, data };
}

/** Captures the rejection reason's code (errors are compared by code, never by class identity). */
export async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  throw new Error("expected a rejection, but it resolved");
}

/** A small deterministic PRNG so stress runs are reproducible from their seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
