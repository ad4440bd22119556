import type { NodeConnectionOptions } from "@nats-io/transport-node";
import {
  type CatalogueLike,
  catalogueSchema,
  compilePattern,
  type EventBus,
  type EventCatalogue,
  InvalidOptionsError,
  type Logger,
  loggerSchema,
  type OverflowPolicy,
  type Pattern,
  parseOptions,
  type SubscribedEvent,
  type TypedCatalogue,
  type Untyped,
} from "@threadbus/core";
import { z } from "zod";
import { isValidPrefix } from "./subject.js";

/**
 * Which events cross the bridge. A string is a system pattern (every kind): `"registry"`,
 * `"registry.**"`. An object names a kind pattern too: `{ system: "registry", kind: "entry.*" }`
 * (kind omitted or "" = every kind). Both use the core pattern syntax.
 */
export type BridgePattern = string | { readonly system: string; readonly kind?: string };

type PatternSystem<P> = P extends string
  ? P
  : P extends { readonly system: infer S extends string }
    ? S
    : string;
type PatternKind<P> = P extends string ? "" : P extends { readonly kind: infer K extends string } ? K : "";

/**
 * On a bus typed by a catalogue, a literal pattern that matches no catalogued event is a type
 * error (it reads as this message); a pattern typed `string`, or any pattern on an untyped bus,
 * passes. The same type-level matcher as subscribe(), so a bridge pattern means what a
 * subscription with those patterns would receive.
 */
export type CataloguedPattern<C extends CatalogueLike, P> = [
  SubscribedEvent<C, PatternSystem<P>, PatternKind<P>>,
] extends [never]
  ? "this pattern matches no event of the bus's catalogue"
  : P;

/** Each pattern of a list checked by CataloguedPattern. */
export type CataloguedPatterns<C extends CatalogueLike, X extends readonly BridgePattern[]> = {
  readonly [I in keyof X]: CataloguedPattern<C, X[I]>;
};

/** The events a list of bridge patterns lets through, on a bus typed by C (BusEvent when untyped). */
export type BridgedEvent<C extends CatalogueLike, X extends readonly BridgePattern[]> = SubscribedEvent<
  C,
  PatternSystem<X[number]>,
  PatternKind<X[number]>
>;

/**
 * The bridge's options. On a bus typed by a catalogue (`new Bus({ events })`), the export and
 * import patterns are checked against it (see CataloguedPattern) and `events` must be that
 * catalogue.
 */
export interface NatsBridgeOptions<
  C extends CatalogueLike = Untyped,
  X extends readonly BridgePattern[] = readonly BridgePattern[],
  M extends readonly BridgePattern[] = readonly BridgePattern[],
> {
  /** The local bus: exports are read from it, imports are sent on it. */
  bus: EventBus<C>;
  /** NATS server URL(s), e.g. "nats://127.0.0.1:4222". */
  servers: string | string[];
  /** Subject prefix, literal tokens only. Default "threadbus". */
  prefix?: string;
  /** Local events to publish to NATS. */
  export?: X & CataloguedPatterns<C, X>;
  /** Remote events to subscribe to and send on the local bus. */
  import?: M & CataloguedPatterns<C, M>;
  /**
   * The catalogue (defineEvents()) imported events are checked against before they are sent on
   * the local bus: path and data parsed with zod, as a bus with `validate: "full"` does. One that
   * fails is counted in `stats().invalid` and logged, never sent. Give the bus's own catalogue;
   * without it the bus's own check at send still applies (a refusal counts in `invalid` too).
   */
  events?: C extends TypedCatalogue ? C : EventCatalogue;
  /** This bridge's id, tagged on every export. Default: a random UUID. */
  origin?: string;
  /** Exports held while disconnected; past it they are dropped and counted. Default 10,000. */
  outageBufferSize?: number;
  /** Buffer of the bridge's subscription on the local bus. Default 8192. */
  exportBufferSize?: number;
  /** What that subscription does when full. Default "block" (back-pressure reaches publishers). */
  exportOverflow?: OverflowPolicy;
  /** Exports between two round trips to the server (nc.flush()), which bound memory in flight. Default 4096. */
  flushEvery?: number;
  /**
   * Bytes a batch of exports aims at (one NATS message per run of one system and kind; the
   * server's max_payload is the hard limit). Default 65,536.
   */
  maxBatchBytes?: number;
  /**
   * Milliseconds between heartbeats, which carry each export subject's last sequence number so
   * importers count events lost at the end of a stream. Default 1000.
   */
  heartbeatMs?: number;
  /**
   * The largest jump in an incoming stream's sequence numbers counted as loss; a larger jump
   * (forward or back) is counted once in `resyncs` and tracking starts over. Default 1,000,000.
   */
  sequenceWindow?: number;
  /** Subjects numbered on export, and (origin, epoch, subject) streams tracked on import. Default 65,536. */
  maxTrackedSubjects?: number;
  /** Extra NATS connection options (auth, TLS, reconnect timing). `servers` wins over `connection.servers`. */
  connection?: Omit<NodeConnectionOptions, "servers">;
  /** Bad messages and connection trouble are reported here. Default console. */
  logger?: Logger;
}

export interface CompiledFilter {
  readonly system: Pattern;
  /** null = every kind. */
  readonly kind: Pattern | null;
}

/** True when (system, kind) matches one of the filters, with the core matcher. */
export function matchesAny(filters: readonly CompiledFilter[], system: string, kind: string): boolean {
  for (const filter of filters) {
    if (filter.system.match(system) && (filter.kind === null || filter.kind.match(kind))) return true;
  }
  return false;
}

export interface ResolvedBridgeOptions {
  bus: EventBus;
  events: EventCatalogue | null;
  servers: string[];
  prefix: string;
  export: CompiledFilter[];
  import: CompiledFilter[];
  origin: string;
  outageBufferSize: number;
  exportBufferSize: number;
  exportOverflow: OverflowPolicy;
  flushEvery: number;
  maxBatchBytes: number;
  heartbeatMs: number;
  sequenceWindow: number;
  maxTrackedSubjects: number;
  connection: Omit<NodeConnectionOptions, "servers">;
  logger: Logger;
}

const bus = z.custom<EventBus>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as EventBus).subscribe === "function" &&
    typeof (value as EventBus).send === "function",
  "must be an EventBus (subscribe() and send())",
);

const nonEmpty = z.string().min(1, "must be a non-empty string");
const pattern = z.union([nonEmpty, z.object({ system: nonEmpty, kind: z.string().optional() })], {
  error:
    'must be a system pattern string or { system, kind? }, e.g. "registry" or { system: "registry", kind: "entry.*" }',
});
const count = (min: number) =>
  z.number().int(`must be an integer >= ${min}`).min(min, `must be an integer >= ${min}`);

const schema = z.strictObject({
  bus,
  servers: z.union([nonEmpty, z.array(nonEmpty).min(1, "must name at least one server")]),
  prefix: z
    .string()
    .refine(
      isValidPrefix,
      "must be literal subject tokens (printable ASCII, no spaces, '*', '>', '~' or empty tokens)",
    )
    .optional(),
  export: z.array(pattern).optional(),
  import: z.array(pattern).optional(),
  events: catalogueSchema.optional(),
  origin: z
    .string()
    .regex(/^[\x21-\x7e]+$/, "must be a non-empty printable ASCII string")
    .optional(),
  outageBufferSize: count(0).optional(),
  exportBufferSize: count(1).optional(),
  exportOverflow: z.enum(["block", "drop-oldest", "drop-newest"]).optional(),
  flushEvery: count(1).optional(),
  maxBatchBytes: count(1).optional(),
  heartbeatMs: count(10).optional(),
  sequenceWindow: count(1).optional(),
  maxTrackedSubjects: count(1).optional(),
  connection: z.object({}).passthrough().optional(),
  logger: loggerSchema.optional(),
});

function compileFilters(patterns: readonly BridgePattern[], option: string): CompiledFilter[] {
  return patterns.map((entry, i) => {
    const system = typeof entry === "string" ? entry : entry.system;
    const kind = typeof entry === "string" ? "" : (entry.kind ?? "");
    try {
      return { system: compilePattern(system), kind: kind === "" ? null : compilePattern(kind) };
    } catch (err) {
      throw new InvalidOptionsError(`${option}.${i}: ${(err as Error).message}`, `${option}.${i}`);
    }
  });
}

/** Validates bridge options up front; throws InvalidOptionsError (code INVALID_OPTIONS) naming the option. */
export function resolveBridgeOptions<C extends CatalogueLike>(
  options: NatsBridgeOptions<C, readonly BridgePattern[], readonly BridgePattern[]>,
): ResolvedBridgeOptions {
  const data = parseOptions(schema, options);
  const exports = compileFilters(data.export ?? [], "options.export");
  const imports = compileFilters(data.import ?? [], "options.import");
  if (exports.length === 0 && imports.length === 0) {
    throw new InvalidOptionsError(
      "options.export/options.import: a bridge needs at least one export or import pattern",
      "options.export",
    );
  }
  return {
    bus: data.bus,
    events: data.events ?? null,
    servers: typeof data.servers === "string" ? [data.servers] : data.servers,
    prefix: data.prefix ?? "threadbus",
    export: exports,
    import: imports,
    origin: data.origin ?? crypto.randomUUID(),
    outageBufferSize: data.outageBufferSize ?? 10_000,
    exportBufferSize: data.exportBufferSize ?? 8192,
    exportOverflow: data.exportOverflow ?? "block",
    flushEvery: data.flushEvery ?? 4096,
    maxBatchBytes: data.maxBatchBytes ?? 65_536,
    heartbeatMs: data.heartbeatMs ?? 1000,
    sequenceWindow: data.sequenceWindow ?? 1_000_000,
    maxTrackedSubjects: data.maxTrackedSubjects ?? 65_536,
    connection: (data.connection ?? {}) as Omit<NodeConnectionOptions, "servers">,
    logger: data.logger ?? console,
  };
}
