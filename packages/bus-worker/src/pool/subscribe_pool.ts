import {
  AbortError,
  type BusEvent,
  type CatalogueLike,
  type EventBus,
  InvalidOptionsError,
  type Untyped,
} from "@threadbus/core";
import { Piscina } from "piscina";
import { type PoolSubscribeOptions, resolvePoolOptions } from "./options.js";
import { PoolSubscription } from "./pool_subscription.js";

/**
 * Subscribes to (system, kind) on any EventBus (the in-thread Bus or the WorkerBus) and runs each
 * matched event as a task in a new piscina pool: `filename`'s default export receives the event.
 * Options are validated before anything starts (InvalidOptionsError, code "INVALID_OPTIONS"); a
 * bad pattern rejects with the bus's InvalidPatternError and leaves no pool behind.
 */
export async function subscribePool<D = unknown, R = unknown, C extends CatalogueLike = Untyped>(
  // A catalogued bus is taken as it is; the pool's tasks see plain BusEvent<D>s.
  bus: EventBus<C>,
  system: string,
  kind: string | undefined,
  options: PoolSubscribeOptions<D, R>,
): Promise<PoolSubscription<D, R>> {
  const resolved = resolvePoolOptions(options);
  if (resolved.signal?.aborted)
    throw new AbortError("subscribePool aborted", { cause: resolved.signal.reason });
  // The pool buffers in front of piscina (see PoolSubscription), so the bus subscription is always
  // "block": the pool's overflow policy is applied once, by the pool, and counted there.
  const untyped = bus as unknown as EventBus;
  const subscription = await untyped.subscribe<D>(system, kind, {
    bufferSize: resolved.busBufferSize,
    overflow: "block",
    ...(resolved.path !== undefined ? { path: resolved.path } : {}),
  });
  let pool: Piscina<BusEvent<D>, R>;
  try {
    pool = new Piscina<BusEvent<D>, R>({
      ...resolved.pool,
      filename: resolved.filename,
      maxQueue: resolved.bufferSize,
      closeTimeout: resolved.closeTimeoutMs,
    });
  } catch (error) {
    await subscription.close();
    // piscina's own checks (e.g. resourceLimits) throw TypeError("options.x must be ...").
    const wrapped = new InvalidOptionsError(`options.pool: ${(error as Error).message}`, "options.pool");
    (wrapped as { cause?: unknown }).cause = error;
    throw wrapped;
  }
  return new PoolSubscription<D, R>(untyped, subscription, pool, resolved);
}
