import { closestMatch } from "leven";
import { z } from "zod";
import {
  catalogueSchema,
  type EventCatalogue,
  type UncataloguedPolicy,
  uncataloguedSchema,
  type ValidateMode,
  validateModeSchema,
} from "./catalogue.js";
import type { TypedCatalogue } from "./catalogue_types.js";
import { InvalidOptionsError } from "./errors.js";
import type {
  EventBus,
  Logger,
  OverflowPolicy,
  SendOptions,
  StopOptions,
  SubscribeOptions,
} from "./types.js";

export const DEFAULT_BUFFER_SIZE = 1024;
export const MAX_BUFFER_SIZE = 1 << 24;
export const DEFAULT_MAX_SUBSCRIBERS = 4096;
/**
 * The in-thread Bus's cap: per-entity subscriptions (one per connection) reach 100,000, and an
 * idle one costs well under 1 KiB there. DEFAULT_MAX_SUBSCRIBERS stays the WorkerBus's default
 * while each of its subscriptions has a delivery ring of its own (~33 KiB).
 */
export const DEFAULT_BUS_MAX_SUBSCRIBERS = 100_000;
/** How long stop() waits for accepted events to be delivered before it drops and counts the rest. */
export const DEFAULT_STOP_TIMEOUT_MS = 5000;
/** The longest delay setTimeout honours (2^31 - 1 ms, ~24.8 days); a longer one fires at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Turns the first zod issue into an InvalidOptionsError naming the option ("options.bufferSize").
 * An unknown key (every options schema is strict, so a typo like `overflw` is not silently
 * ignored) is named itself, with the closest known option when `known` is given:
 * "options.overflw: unknown option (did you mean 'overflow'?)".
 */
export function optionsError(
  error: z.ZodError,
  prefix = "options",
  known: readonly string[] = [],
  nested: readonly string[] = [],
): InvalidOptionsError {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)];
  if (issue?.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const option = [...path, key].join(".");
    // Long keys are no typos of ours, and leven's cost grows with the product of the lengths.
    const guess = key.length <= 64 ? closestMatch(key, known, { maxDistance: 2 }) : undefined;
    // A key that belongs one level down (`maxThreads` for `pool.maxThreads`) is named with its parent.
    const deeper =
      guess === undefined && key.length <= 64
        ? nested.find((dotted) =>
            closestMatch(key, [dotted.slice(dotted.indexOf(".") + 1)], { maxDistance: 1 }),
          )
        : undefined;
    const hint =
      guess === undefined
        ? deeper === undefined
          ? ""
          : ` (did you mean '${deeper}'?)`
        : ` (did you mean '${guess}'?)`;
    const others = issue.keys.length > 1 ? `; also unknown: ${issue.keys.slice(1).join(", ")}` : "";
    return new InvalidOptionsError(`${option}: unknown option${hint}${others}`, option);
  }
  const option = path.join(".");
  return new InvalidOptionsError(`${option}: ${issue?.message ?? "invalid"}`, option);
}

/**
 * Parses `value` with a schema, or throws the InvalidOptionsError that optionsError makes; an
 * options object whose reading throws (a getter, a Proxy) is an InvalidOptionsError too, with
 * what it threw as the cause.
 */
export function parseOptions<T>(schema: z.ZodType<T>, value: unknown, prefix = "options"): T {
  let parsed: z.ZodSafeParseResult<T>;
  try {
    parsed = schema.safeParse(value ?? {});
  } catch (error) {
    throw new InvalidOptionsError(`${prefix}: could not be read (it threw)`, prefix, { cause: error });
  }
  if (!parsed.success) {
    // The keys known where the issue is: a typo inside a nested object is matched against that object's keys.
    let shape = objectShape(schema);
    for (const key of parsed.error.issues[0]?.path ?? []) {
      // An index of an array: objectShape already stepped from the array into its element.
      if (typeof key !== "number") shape = objectShape(shape?.[String(key)]);
    }
    const known = shape ? Object.keys(shape) : [];
    const nested = shape
      ? known.flatMap((key) => Object.keys(objectShape(shape[key]) ?? {}).map((inner) => `${key}.${inner}`))
      : [];
    throw optionsError(parsed.error, prefix, known, nested);
  }
  return parsed.data;
}

/** The shape of an object schema, through the optional/default/refine wrappers around it; undefined for others. */
function objectShape(schema: unknown): Record<string, unknown> | undefined {
  let current = schema as
    | { shape?: unknown; unwrap?: () => unknown; in?: unknown; element?: unknown }
    | undefined;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    if (typeof current.shape === "object" && current.shape !== null)
      return current.shape as Record<string, unknown>;
    if (typeof current.unwrap === "function") current = current.unwrap() as typeof current;
    else if (current.in !== undefined) current = current.in as typeof current;
    // An array's path goes on through an index: skip to the element's schema.
    else if (current.element !== undefined) current = current.element as typeof current;
    else return undefined;
  }
  return undefined;
}

export const abortSignalSchema = z.custom<AbortSignal>(
  (value) => value instanceof AbortSignal,
  "must be an AbortSignal",
);

/** A timeout in ms as every threadbus option takes it: an integer from `min` to MAX_TIMEOUT_MS. */
export function timeoutMsSchema(min: number) {
  const message = `must be an integer from ${min} to ${MAX_TIMEOUT_MS} (ms)`;
  return z.number(message).int(message).min(min, message).max(MAX_TIMEOUT_MS, message);
}

export const subscribeOptionsSchema = z.strictObject({
  bufferSize: z
    .number()
    .int(`must be an integer from 1 to ${MAX_BUFFER_SIZE}`)
    .min(1, `must be an integer from 1 to ${MAX_BUFFER_SIZE}`)
    .max(MAX_BUFFER_SIZE, `must be an integer from 1 to ${MAX_BUFFER_SIZE}`)
    .optional(),
  overflow: z.enum(["block", "drop-oldest", "drop-newest"]).optional(),
  signal: abortSignalSchema.optional(),
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
  const parsed = parseOptions(subscribeOptionsSchema, options);
  return {
    bufferSize: parsed.bufferSize ?? DEFAULT_BUFFER_SIZE,
    overflow: parsed.overflow ?? "block",
    signal: parsed.signal,
    path: parsed.path,
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

/** What the helpers take as a bus: anything that implements EventBus (Bus, WorkerBus, an attached client). */
export const eventBusSchema = z.custom<EventBus>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as EventBus).subscribe === "function" &&
    typeof (value as EventBus).send === "function",
  "must be an EventBus (a Bus, a WorkerBus or an attached client)",
);

/** Throws InvalidOptionsError unless `bus` implements EventBus; for the helpers' constructors. */
export function assertEventBus(bus: unknown): asserts bus is EventBus {
  parseOptions(eventBusSchema, bus, "bus");
}

export const busOptionsSchema = z.strictObject({
  maxSubscribers: z.number().int().min(1, "must be a positive integer").optional(),
  maxQueue: z.number().int().min(1, "must be a positive integer").optional(),
  onFull: z.enum(["throw", "drop"]).optional(),
  slowSubscriberMs: z
    .number()
    .min(0, "must be >= 0")
    .max(MAX_TIMEOUT_MS, `must be <= ${MAX_TIMEOUT_MS}`)
    .optional(),
  cacheSize: z.number().int().min(0, "must be a non-negative integer").optional(),
  logger: loggerSchema.optional(),
  events: catalogueSchema.optional(),
  validate: validateModeSchema.optional(),
  uncatalogued: uncataloguedSchema.optional(),
});

/**
 * The catalogue options both buses take (see defineEvents). A bus is typed by its catalogue when
 * `events` is given where it is built (`new Bus({ events })`: the constructor infers it).
 */
export interface CatalogueOptions {
  /** The catalogue (defineEvents()) the bus is typed by and checks sends against. */
  events?: TypedCatalogue;
  /** How sends are checked against the catalogue: "shape" (default), "full" (zod's parse) or "off". */
  validate?: ValidateMode;
  /** An event whose (system, kind) is not catalogued: "refuse" (default: INVALID_EVENT, field "kind") or "allow". */
  uncatalogued?: UncataloguedPolicy;
}

/** The catalogue options as a bus holds them: no catalogue means no check. */
export interface ResolvedCatalogue {
  events: EventCatalogue | null;
  validate: ValidateMode;
  uncatalogued: UncataloguedPolicy;
}

export function resolveCatalogueOptions(parsed: {
  events?: EventCatalogue | undefined;
  validate?: ValidateMode | undefined;
  uncatalogued?: UncataloguedPolicy | undefined;
}): ResolvedCatalogue {
  return {
    events: parsed.events ?? null,
    validate: parsed.validate ?? "shape",
    uncatalogued: parsed.uncatalogued ?? "refuse",
  };
}

export interface BusOptions extends CatalogueOptions {
  /** Live subscriptions at most; one more rejects with SubscriberCapError. Default 100,000. */
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

export type ResolvedBusOptions = Required<Omit<BusOptions, keyof CatalogueOptions>> & {
  catalogue: ResolvedCatalogue;
};

export function resolveBusOptions(options: BusOptions | undefined): ResolvedBusOptions {
  const parsed = parseOptions(busOptionsSchema, options);
  return {
    catalogue: resolveCatalogueOptions(parsed),
    maxSubscribers: parsed.maxSubscribers ?? DEFAULT_BUS_MAX_SUBSCRIBERS,
    maxQueue: parsed.maxQueue ?? 1_000_000,
    onFull: parsed.onFull ?? "throw",
    slowSubscriberMs: parsed.slowSubscriberMs ?? 5000,
    cacheSize: parsed.cacheSize ?? 4096,
    logger: parsed.logger ?? console,
  };
}

export const stopOptionsSchema = z.strictObject({
  timeoutMs: timeoutMsSchema(0).optional(),
});

/** Validates stop() options; throws InvalidOptionsError naming the bad option. */
export function resolveStopOptions(options: StopOptions | undefined): Required<StopOptions> {
  const parsed = parseOptions(stopOptionsSchema, options);
  return { timeoutMs: parsed.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS };
}

export const sendOptionsSchema = z.strictObject({
  signal: abortSignalSchema.optional(),
});

/**
 * Validates send() options and returns the signal. send() is the hot path (zod costs ~1 µs), so
 * the plain checks below accept exactly what `sendOptionsSchema` accepts, and zod runs only to
 * build the error when they fail.
 */
export function resolveSendSignal(options: SendOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  try {
    if (typeof options === "object" && options !== null) {
      const signal = options.signal;
      let onlySignal = true;
      for (const key in options) {
        if (key !== "signal") {
          onlySignal = false;
          break;
        }
      }
      if (onlySignal && (signal === undefined || signal instanceof AbortSignal)) return signal;
    }
  } catch {
    // Reading it threw: parseOptions below reports that as InvalidOptionsError.
  }
  return parseOptions(sendOptionsSchema, options).signal;
}
