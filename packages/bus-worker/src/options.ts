import {
  type CatalogueOptions,
  catalogueSchema,
  DEFAULT_MAX_SUBSCRIBERS,
  type Logger,
  loggerSchema,
  parseOptions,
  type ResolvedCatalogue,
  resolveCatalogueOptions,
  uncataloguedSchema,
  validateModeSchema,
} from "@threadbus/core";
import { z } from "zod";
import { Ring } from "./ring.js";

/** What send() does when the ring has no room. */
export type OnFull = "wait" | "throw" | "drop";

/**
 * `events`, `validate` and `uncatalogued` are the catalogue options of the in-thread Bus (see
 * defineEvents in @threadbus/core); attached threads pass the same catalogue to attach().
 */
export interface WorkerBusOptions extends CatalogueOptions {
  /** Ring size in bytes, a power of two from 1 KiB to 256 MiB. Default 4 MiB. A record may take a quarter of it. */
  ringBytes?: number;
  /** Live subscriptions at most; one more rejects with SubscriberCapError. Default 4096. */
  maxSubscribers?: number;
  /**
   * Threads that may use the bus at once (the starting one and every handle() in use), at most.
   * A thread's slot is given back when it detaches or dies. Default 64.
   */
  maxClients?: number;
  /**
   * A send into a full ring: "throw" throws BusFullError; "drop" returns false and counts the
   * event in stats().refused; "wait" (workers only) blocks the calling thread up to `maxWaitMs`
   * for room, then throws BusFullError. Default: "throw" on the main thread, "wait" in a worker.
   * "wait" on the main thread is refused (InvalidOptionsError): Atomics.wait there would freeze
   * its event loop. Publishers that must not lose events await `bus.ready()` or `bus.sendAsync()`.
   */
  onFull?: OnFull;
  /** The longest a "wait" send blocks its thread. Default 100 ms. */
  maxWaitMs?: number;
  /** A "block" subscriber that holds the dispatcher this long is named in a warning. Default 5000. */
  slowSubscriberMs?: number;
  /**
   * A record a live thread claimed but left unpublished this long is skipped as torn (counted in
   * stats().torn); a dead thread's is skipped at once. Default 3000 ms, from 100 to 60000.
   */
  unblockAfterMs?: number;
  logger?: Logger;
}

export interface ResolvedWorkerBusOptions {
  ringBytes: number;
  maxSubscribers: number;
  maxClients: number;
  onFull: OnFull | undefined;
  maxWaitMs: number;
  slowSubscriberMs: number;
  unblockAfterMs: number;
  logger: Logger;
  catalogue: ResolvedCatalogue;
}

const schema = z
  .object({
    ringBytes: z
      .number()
      .refine(Ring.isValidCapacity, "must be a power of two from 1024 to 268435456")
      .optional(),
    maxSubscribers: z
      .number()
      .int()
      .min(1, "must be a positive integer")
      .max(1 << 20, "must be at most 1048576")
      .optional(),
    maxClients: z
      .number()
      .int()
      .min(1, "must be a positive integer")
      .max(1024, "must be at most 1024")
      .optional(),
    onFull: z.enum(["wait", "throw", "drop"]).optional(),
    maxWaitMs: z.number().min(0, "must be >= 0").max(10_000, "must be at most 10000").optional(),
    slowSubscriberMs: z.number().min(0, "must be >= 0").optional(),
    unblockAfterMs: z
      .number()
      .int()
      .min(100, "must be an integer from 100 to 60000")
      .max(60_000, "must be an integer from 100 to 60000")
      .optional(),
    logger: loggerSchema.optional(),
    events: catalogueSchema.optional(),
    validate: validateModeSchema.optional(),
    uncatalogued: uncataloguedSchema.optional(),
  })
  .strict();

/** Validates WorkerBus options up front; throws InvalidOptionsError naming the bad option. */
export function resolveWorkerBusOptions(options: WorkerBusOptions | undefined): ResolvedWorkerBusOptions {
  const parsed = parseOptions(schema, options);
  return {
    ringBytes: parsed.ringBytes ?? 1 << 22,
    maxSubscribers: parsed.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS,
    maxClients: parsed.maxClients ?? 64,
    onFull: parsed.onFull,
    maxWaitMs: parsed.maxWaitMs ?? 100,
    slowSubscriberMs: parsed.slowSubscriberMs ?? 5000,
    unblockAfterMs: parsed.unblockAfterMs ?? 3000,
    logger: parsed.logger ?? console,
    catalogue: resolveCatalogueOptions(parsed),
  };
}
