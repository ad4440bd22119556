import { existsSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  abortSignalSchema,
  type BusEvent,
  DEFAULT_BUFFER_SIZE,
  InvalidOptionsError,
  type Logger,
  loggerSchema,
  MAX_BUFFER_SIZE,
  type OverflowPolicy,
  parseOptions,
} from "@threadbus/core";
import type { Piscina } from "piscina";
import { z } from "zod";

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
  /** The task file (.js/.mjs/.cjs, absolute path or file: URL); its default export gets each event. */
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

export const DEFAULT_BUS_BUFFER_SIZE = 64;
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  const message =
    max === Number.MAX_SAFE_INTEGER
      ? `must be an integer >= ${min}`
      : `must be an integer from ${min} to ${max}`;
  return z.number(message).int(message).min(min, message).max(max, message);
}

/** A key of piscina's options that the pool subscription sets itself: refused, saying where it comes from. */
function owned(reason: string) {
  return z.undefined(reason).optional();
}

const functionSchema = z.custom<(...args: never[]) => unknown>(
  (value) => typeof value === "function",
  "must be a function",
);

/**
 * piscina's own options, every key listed so that a misspelled one is refused with the closest
 * key (piscina ignores unknown keys); piscina checks the values of those it only passes through.
 */
const poolShape = {
  name: z.string().optional(),
  minThreads: integer(0).optional(),
  maxThreads: integer(1).optional(),
  idleTimeout: z.number().min(0, "must be >= 0").optional(),
  concurrentTasksPerWorker: integer(1).optional(),
  atomics: z.enum(["sync", "async", "disabled"]).optional(),
  resourceLimits: z.unknown().optional(),
  argv: z.array(z.string()).optional(),
  execArgv: z.array(z.string()).optional(),
  env: z.unknown().optional(),
  workerData: z.unknown().optional(),
  niceIncrement: z.number().optional(),
  trackUnmanagedFds: z.boolean().optional(),
  recordTiming: z.boolean().optional(),
  loadBalancer: functionSchema.optional(),
  workerHistogram: z.boolean().optional(),
  filename: owned("is set by options.filename"),
  maxQueue: owned("is set by options.bufferSize"),
  taskQueue: owned("is owned by the pool subscription"),
  stricterFIFO: owned("is owned by the pool subscription"),
  closeTimeout: owned("is set by options.closeTimeoutMs"),
} satisfies Record<keyof PiscinaOptions, z.ZodType>;

const poolSchema = z
  .strictObject(poolShape, "must be an object of piscina options")
  .superRefine((pool, context) => {
    if (pool.minThreads !== undefined && pool.maxThreads !== undefined && pool.minThreads > pool.maxThreads)
      context.addIssue({
        code: "custom",
        path: ["minThreads"],
        message: "must not exceed options.pool.maxThreads",
      });
  });

/**
 * Task files run in piscina's workers through Node's own loader, which on Node 20 runs no
 * TypeScript: a `.ts` file would pass every check here and then fail each task with
 * "Unknown file extension". Refused up front instead.
 */
const TASK_EXTENSIONS = [".js", ".mjs", ".cjs"];

const filenameSchema = z
  .union([z.instanceof(URL), z.string().min(1)], "must be a non-empty path or a file: URL")
  .transform((value, context) => {
    const filename = value instanceof URL ? fileURLToPath(value) : value;
    const extension = extname(filename);
    if (!TASK_EXTENSIONS.includes(extension)) {
      context.addIssue({
        code: "custom",
        message:
          extension === ".ts" || extension === ".mts" || extension === ".cts"
            ? `task file '${filename}' is TypeScript, which Node's worker cannot load: point filename at the compiled .js file`
            : `task file '${filename}' must end in ${TASK_EXTENSIONS.join(", ")} (the worker imports it as JavaScript)`,
      });
      return z.NEVER;
    }
    if (!existsSync(filename)) {
      context.addIssue({ code: "custom", message: `task file '${filename}' does not exist` });
      return z.NEVER;
    }
    return filename;
  });

const schema = z.strictObject({
  filename: filenameSchema,
  pool: poolSchema.optional(),
  bufferSize: integer(1, MAX_BUFFER_SIZE).optional(),
  overflow: z.enum(["block", "drop-oldest", "drop-newest"]).optional(),
  busBufferSize: integer(1, MAX_BUFFER_SIZE).optional(),
  path: z
    .string("must be a non-empty minimatch glob")
    .min(1, "must be a non-empty minimatch glob")
    .optional(),
  signal: abortSignalSchema.optional(),
  taskTimeoutMs: integer(1).optional(),
  closeTimeoutMs: integer(0).optional(),
  onResult: functionSchema.optional(),
  onError: functionSchema.optional(),
  logger: loggerSchema.optional(),
});

/**
 * Validates every option up front; throws InvalidOptionsError naming the bad one
 * ("options.pool.maxThreads"), and for an unknown key the closest known one.
 */
export function resolvePoolOptions<D, R>(
  options: PoolSubscribeOptions<D, R> | undefined,
): ResolvedPoolOptions<D, R> {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionsError("options: must be an object with at least a filename", "options");
  }
  const parsed = parseOptions(schema, options);
  const onResult = parsed.onResult as ResolvedPoolOptions<D, R>["onResult"];
  const onError = parsed.onError as ResolvedPoolOptions<D, R>["onError"];
  return {
    filename: parsed.filename,
    pool: (parsed.pool ?? {}) as PoolThreadOptions,
    bufferSize: parsed.bufferSize ?? DEFAULT_BUFFER_SIZE,
    overflow: parsed.overflow ?? "block",
    busBufferSize: parsed.busBufferSize ?? DEFAULT_BUS_BUFFER_SIZE,
    path: parsed.path,
    signal: parsed.signal,
    taskTimeoutMs: parsed.taskTimeoutMs,
    closeTimeoutMs: parsed.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    onResult,
    onError,
    logger: parsed.logger ?? console,
    iterate: onResult === undefined && onError === undefined,
  };
}
