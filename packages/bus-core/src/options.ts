import { z } from "zod";
import { InvalidOptionsError } from "./errors.js";
import type { Logger, OverflowPolicy, SubscribeOptions } from "./types.js";

export const DEFAULT_BUFFER_SIZE = 1024;
export const MAX_BUFFER_SIZE = 1 << 24;
export const DEFAULT_MAX_SUBSCRIBERS = 4096;

/** Turns the first zod issue into an InvalidOptionsError naming the option ("options.bufferSize"). */
export function optionsError(error: z.ZodError, prefix = "options"): InvalidOptionsError {
  const issue = error.issues[0];
  const option = [prefix, ...(issue?.path ?? []).map(String)].join(".");
  return new InvalidOptionsError(`${option}: ${issue?.message ?? "invalid"}`, option);
}

const abortSignal = z.custom<AbortSignal>((value) => value instanceof AbortSignal, "must be an AbortSignal");

export const subscribeOptionsSchema = z.object({
  bufferSize: z
    .number()
    .int(`must be an integer from 1 to ${MAX_BUFFER_SIZE}`)
    .min(1, `must be an integer from 1 to ${MAX_BUFFER_SIZE}`)
    .max(MAX_BUFFER_SIZE, `must be an integer from 1 to ${MAX_BUFFER_SIZE}`)
    .optional(),
  overflow: z.enum(["block", "drop-oldest", "drop-newest"]).optional(),
  signal: abortSignal.optional(),
  path: z.string().min(1, "must be a non-empty minimatch glob").optional(),
});

export interface ResolvedSubscribeOptions {
  bufferSize: number;
  overflow: OverflowPolicy;
  signal: AbortSignal | undefined;
  path: string | undefined;
}

/** Validates subscribe options up front; throws InvalidOptionsError naming the bad option. */
export function resolveSubscribeOptions(options: SubscribeOptions | undefined): ResolvedSubscribeOptions {
  const parsed = subscribeOptionsSchema.safeParse(options ?? {});
  if (!parsed.success) throw optionsError(parsed.error);
  return {
    bufferSize: parsed.data.bufferSize ?? DEFAULT_BUFFER_SIZE,
    overflow: parsed.data.overflow ?? "block",
    signal: parsed.data.signal,
    path: parsed.data.path,
  };
}

/** A Logger as every threadbus options schema accepts it (console fits). */
export const loggerSchema = z.custom<Logger>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as Logger).warn === "function" &&
    typeof (value as Logger).error === "function",
  "must have warn() and error() methods",
);

export const busOptionsSchema = z.object({
  maxSubscribers: z.number().int().min(1, "must be a positive integer").optional(),
  maxQueue: z.number().int().min(1, "must be a positive integer").optional(),
  onFull: z.enum(["throw", "drop"]).optional(),
  slowSubscriberMs: z.number().min(0, "must be >= 0").optional(),
  cacheSize: z.number().int().min(0, "must be a non-negative integer").optional(),
  logger: loggerSchema.optional(),
});

export interface BusOptions {
  /** Live subscriptions at most; one more rejects with SubscriberCapError. Default 4096. */
  maxSubscribers?: number;
  /** Actions queued for the dispatcher at most before `onFull` applies. Default 1,000,000. */
  maxQueue?: number;
  /** A send into a full queue throws BusFullError ("throw", default) or returns false and is counted ("drop"). */
  onFull?: "throw" | "drop";
  /** A "block" subscriber that holds the dispatcher this long is named in a logger warning. Default 5000. */
  slowSubscriberMs?: number;
  /** (system, kind) results cached by the subscription index. Default 4096. */
  cacheSize?: number;
  logger?: Logger;
}

export function resolveBusOptions(options: BusOptions | undefined): Required<BusOptions> {
  const parsed = busOptionsSchema.safeParse(options ?? {});
  if (!parsed.success) throw optionsError(parsed.error);
  return {
    maxSubscribers: parsed.data.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS,
    maxQueue: parsed.data.maxQueue ?? 1_000_000,
    onFull: parsed.data.onFull ?? "throw",
    slowSubscriberMs: parsed.data.slowSubscriberMs ?? 5000,
    cacheSize: parsed.data.cacheSize ?? 4096,
    logger: parsed.data.logger ?? console,
  };
}
