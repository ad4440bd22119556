import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type BusEvent,
  DEFAULT_BUFFER_SIZE,
  InvalidOptionsError,
  type Logger,
  MAX_BUFFER_SIZE,
  type OverflowPolicy,
} from "@threadbus/core";
import type { Piscina } from "piscina";

type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;

/**
 * The piscina options a pool subscription passes through. `filename` and `maxQueue` are the
 * subscription's own (`filename`, `bufferSize`); `taskQueue`, `stricterFIFO` and `closeTimeout`
 * are owned by the subscription because it keeps the queue itself (see README.md).
 */
export type PoolThreadOptions = Omit<
  PiscinaOptions,
  "filename" | "maxQueue" | "taskQueue" | "stricterFIFO" | "closeTimeout"
>;

export interface PoolSubscribeOptions<D = unknown, R = unknown> {
  /** The task file (.js/.mjs, absolute path or file: URL); its default export gets each event. */
  filename: string | URL;
  /** piscina options: maxThreads, minThreads, idleTimeout, concurrentTasksPerWorker, resourceLimits, ... */
  pool?: PoolThreadOptions;
  /** Events waiting for a worker at most (the pool's queue limit) before `overflow` applies. Default 1024. */
  bufferSize?: number;
  /** "block" (default) stops pulling from the bus, so the bus applies back-pressure; drops are counted. */
  overflow?: OverflowPolicy;
  /** Buffer of the underlying bus subscription (between the dispatcher and the pool buffer). Default 64. */
  busBufferSize?: number;
  /** A minimatch glob on `event.path`, applied by the bus dispatcher. */
  path?: string;
  /** Aborting it closes the subscription, as close() does. */
  signal?: AbortSignal;
  /** A task running longer is aborted (its worker is replaced) and reported with a TimeoutError. The clock
   * starts when the task is handed to piscina, so it includes a replacement worker's start-up. */
  taskTimeoutMs?: number;
  /** close() waits this long for running tasks, then aborts them. Default 30000. */
  closeTimeoutMs?: number;
  /** Called with each result; if neither callback is given, outcomes are read with `for await`. */
  onResult?: (event: BusEvent<D>, result: R) => void;
  /** Called with each failed or aborted task and the event that caused it. */
  onError?: (event: BusEvent<D>, error: unknown) => void;
  /** Where callback exceptions and pool-level errors go. Default console. */
  logger?: Logger;
}

export interface ResolvedPoolOptions<D, R> {
  filename: string;
  pool: PoolThreadOptions;
  bufferSize: number;
  overflow: OverflowPolicy;
  busBufferSize: number;
  path: string | undefined;
  signal: AbortSignal | undefined;
  taskTimeoutMs: number | undefined;
  closeTimeoutMs: number;
  onResult: ((event: BusEvent<D>, result: R) => void) | undefined;
  onError: ((event: BusEvent<D>, error: unknown) => void) | undefined;
  logger: Logger;
  /** True when outcomes go to the async iterator (no callback given). */
  iterate: boolean;
}

const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ["block", "drop-oldest", "drop-newest"];

export const DEFAULT_BUS_BUFFER_SIZE = 64;
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

function fail(option: string, message: string): never {
  throw new InvalidOptionsError(`${option}: ${message}`, option);
}

function checkInteger(
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(
      option,
      max === Number.MAX_SAFE_INTEGER
        ? `must be an integer >= ${min}`
        : `must be an integer from ${min} to ${max}`,
    );
  }
  return value;
}

function checkFunction<F>(option: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== "function") fail(option, "must be a function");
  return value;
}

const OWNED_POOL_OPTIONS: Record<string, string> = {
  filename: "is set by options.filename",
  maxQueue: "is set by options.bufferSize",
  taskQueue: "is owned by the pool subscription",
  stricterFIFO: "is owned by the pool subscription",
  closeTimeout: "is set by options.closeTimeoutMs",
};

function checkPool(value: unknown): PoolThreadOptions {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null)
    fail("options.pool", "must be an object of piscina options");
  const pool = value as Record<string, unknown>;
  for (const [key, reason] of Object.entries(OWNED_POOL_OPTIONS)) {
    if (pool[key] !== undefined) fail(`options.pool.${key}`, reason);
  }
  const maxThreads = checkInteger("options.pool.maxThreads", pool.maxThreads, 1);
  const minThreads = checkInteger("options.pool.minThreads", pool.minThreads, 0);
  checkInteger("options.pool.concurrentTasksPerWorker", pool.concurrentTasksPerWorker, 1);
  if (minThreads !== undefined && maxThreads !== undefined && minThreads > maxThreads) {
    fail("options.pool.minThreads", "must not exceed options.pool.maxThreads");
  }
  return pool as PoolThreadOptions;
}

function checkFilename(value: unknown): string {
  let filename: string;
  if (value instanceof URL) filename = fileURLToPath(value);
  else if (typeof value === "string" && value !== "") filename = value;
  else fail("options.filename", "must be a non-empty path or a file: URL");
  if (!existsSync(filename)) fail("options.filename", `task file '${filename}' does not exist`);
  return filename;
}

/** Validates every option up front; throws InvalidOptionsError naming the bad one ("options.pool.maxThreads"). */
export function resolvePoolOptions<D, R>(
  options: PoolSubscribeOptions<D, R> | undefined,
): ResolvedPoolOptions<D, R> {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionsError("options: must be an object with at least a filename", "options");
  }
  const overflow = options.overflow ?? "block";
  if (!OVERFLOW_POLICIES.includes(overflow))
    fail("options.overflow", `must be one of ${OVERFLOW_POLICIES.join(", ")}`);
  if (options.path !== undefined && (typeof options.path !== "string" || options.path === "")) {
    fail("options.path", "must be a non-empty minimatch glob");
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    fail("options.signal", "must be an AbortSignal");
  const logger = options.logger ?? console;
  if (
    typeof logger !== "object" ||
    logger === null ||
    typeof logger.warn !== "function" ||
    typeof logger.error !== "function"
  ) {
    fail("options.logger", "must have warn() and error() methods");
  }
  const onResult = checkFunction("options.onResult", options.onResult);
  const onError = checkFunction("options.onError", options.onError);
  return {
    filename: checkFilename(options.filename),
    pool: checkPool(options.pool),
    bufferSize:
      checkInteger("options.bufferSize", options.bufferSize, 1, MAX_BUFFER_SIZE) ?? DEFAULT_BUFFER_SIZE,
    overflow,
    busBufferSize:
      checkInteger("options.busBufferSize", options.busBufferSize, 1, MAX_BUFFER_SIZE) ??
      DEFAULT_BUS_BUFFER_SIZE,
    path: options.path,
    signal: options.signal,
    taskTimeoutMs: checkInteger("options.taskTimeoutMs", options.taskTimeoutMs, 1),
    closeTimeoutMs:
      checkInteger("options.closeTimeoutMs", options.closeTimeoutMs, 0) ?? DEFAULT_CLOSE_TIMEOUT_MS,
    onResult,
    onError,
    logger,
    iterate: onResult === undefined && onError === undefined,
  };
}
