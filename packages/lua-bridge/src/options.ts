import {
  type EventBus,
  InvalidOptionsError,
  type Logger,
  loggerSchema,
  type OverflowPolicy,
  parseOptions,
} from "@threadbus/core";
import { z } from "zod";
import { luaLiteral } from "./lua_literal.js";

/** Who printed a line. */
export interface LuaProcessInfo {
  readonly pid: number;
  readonly name: string;
}

/** Unsafe capabilities a trusted script may be given. All are off by default. */
export interface LuaSandboxAllow {
  /** The full `io` library (wasmoon's in-memory file system, not the host's). */
  io?: boolean;
  /** The full `os` library; without it only `os.time` and `os.clock` exist. */
  os?: boolean;
  /** The `debug` library. It can break the sandbox; give it to trusted scripts only. */
  debug?: boolean;
  /** `require` and `package`. */
  require?: boolean;
  /** `load` of precompiled (binary) chunks. Malformed bytecode can corrupt the VM. */
  bytecode?: boolean;
}

export interface LuaHostOptions {
  /** The bus the processes publish to and subscribe on (`Bus` or `WorkerBus`). */
  bus: EventBus;
  /** Receives each line a script prints. Default: console.log. */
  print?: (line: string, process: LuaProcessInfo) => void;
  /** Where failures of processes nobody awaits (spawned from Lua) and host faults go. Default: console. */
  logger?: Logger;
  /**
   * Engine threads, each a Lua VM running its share of the processes. Default 1. Processes go to
   * the engine with the fewest (or the one `spawn` names); a process's children share its engine.
   */
  engines?: number;
  /**
   * Instructions a process may run between two yields, across all of its coroutines, before it is
   * stopped with LuaInstructionBudgetError. Default 10,000,000 (~70 ms of plain Lua on this
   * machine class: 1M instructions took ~7 ms).
   */
  instructionBudget?: number;
  /**
   * Wall-clock time a process may run between two yields before it is stopped with
   * LuaTimeLimitError (checked every 10,000 instructions: instructions are not time, and 10M
   * allocation-heavy ones once took 4.4 s). Default 100 ms.
   */
  timeSliceMs?: number;
  /**
   * An engine busy this long without finishing a resume is stuck (in C code, e.g. a string
   * pattern that backtracks, where no Lua hook runs): its thread is terminated and a fresh engine
   * takes its place; the process it was running ends with LuaTimeLimitError, the others on that
   * engine with LuaEngineFailedError. At least 2 x timeSliceMs. Default 1000 ms.
   */
  watchdogMs?: number;
  /** Limit on the memory of each engine's Lua VM, shared by its processes. Default 256 MiB. */
  memoryLimitBytes?: number;
  /** Most events handed to a process per resume. Default 512. */
  batchSize?: number;
  /** bufferSize of each engine's single `**` subscription on the bus. Default 8192. */
  relayBufferSize?: number;
  /** Events routed to a process and not yet handed to it, at most. Default 16,384. */
  queueSize?: number;
  /**
   * What a full process queue does, as a bus subscription's `overflow`: "drop-oldest" (default:
   * an idle script costs at most `queueSize` events and never holds anyone up), "drop-newest",
   * or "block" (lossless: the engine's relay waits for room, so back-pressure reaches the bus
   * and its publishers; one script that never reads then stalls every process of its engine).
   * Drops are counted per process and in `host.stats().dropped`.
   */
  queueOverflow?: OverflowPolicy;
  /** How Lua `events.subscribe` patterns match (see LuaMatching). Default "wippy". */
  matching?: LuaMatching;
  allow?: LuaSandboxAllow;
}

export interface ResolvedLuaHostOptions {
  bus: EventBus;
  print: (line: string, process: LuaProcessInfo) => void;
  logger: Logger;
  engines: number;
  instructionBudget: number;
  timeSliceMs: number;
  watchdogMs: number;
  memoryLimitBytes: number;
  batchSize: number;
  relayBufferSize: number;
  queueSize: number;
  queueOverflow: OverflowPolicy;
  matching: LuaMatching;
  allow: Required<LuaSandboxAllow>;
}

/**
 * How the `system` and `kind` patterns of a Lua `events.subscribe` match:
 * - "wippy" (default): Wippy's Lua dispatcher rules (wippyai/runtime system/eventbus/dispatcher.go):
 *   `*` or "" matches anything, a pattern ending in `*` is a prefix (`orders.*` reaches
 *   `orders.eu.west`), anything else must be equal. A pattern that uses syntax only the bus knows
 *   (`**`, `(a|b)`, a `*` before the end) is refused with `nil, err` (INVALID), never silently
 *   matched as a literal.
 * - "bus": the bus's segment wildcards (`*` one segment, `**` any number, `(a|b)`), as everywhere
 *   else in threadbus.
 */
export type LuaMatching = "wippy" | "bus";

const MATCHING: readonly LuaMatching[] = ["wippy", "bus"];
const OVERFLOW_POLICIES = ["block", "drop-oldest", "drop-newest"] as const;

function integer(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z.number(message).int(message).min(min, message).max(max, message).optional();
}

const allowSchema = z.strictObject({
  io: z.boolean("must be a boolean").optional(),
  os: z.boolean("must be a boolean").optional(),
  debug: z.boolean("must be a boolean").optional(),
  require: z.boolean("must be a boolean").optional(),
  bytecode: z.boolean("must be a boolean").optional(),
});

const hostOptionsSchema = z.strictObject({
  bus: z.custom<EventBus>(
    (value) =>
      typeof value === "object" &&
      value !== null &&
      ["subscribe", "send", "flush"].every(
        (name) => typeof (value as Record<string, unknown>)[name] === "function",
      ),
    "must be an EventBus (a Bus or WorkerBus)",
  ),
  print: z
    .custom<LuaHostOptions["print"]>((value) => typeof value === "function", "must be a function")
    .optional(),
  logger: loggerSchema.optional(),
  engines: integer(1, 64),
  instructionBudget: integer(1000, 2 ** 31 - 1),
  timeSliceMs: integer(1, 60_000),
  watchdogMs: integer(2, 600_000),
  memoryLimitBytes: integer(1 << 20, 2 ** 31),
  batchSize: integer(1, 65_536),
  relayBufferSize: integer(1, 1 << 24),
  queueSize: integer(1, 1 << 24),
  queueOverflow: z.enum(OVERFLOW_POLICIES, `must be one of ${OVERFLOW_POLICIES.join(", ")}`).optional(),
  matching: z.enum(MATCHING, `must be one of ${MATCHING.join(", ")}`).optional(),
  allow: z.unknown().optional(),
});

/** Checks every option up front; throws InvalidOptionsError (code INVALID_OPTIONS) naming the bad one. */
export function resolveLuaHostOptions(options: LuaHostOptions): ResolvedLuaHostOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionsError("options: must be an object with a `bus`", "options");
  }
  const parsed = parseOptions(hostOptionsSchema, options);
  // Parsed on its own so that a typo inside it is suggested from the capabilities' names.
  const allow = parseOptions(allowSchema, parsed.allow, "options.allow");
  const timeSliceMs = parsed.timeSliceMs ?? 100;
  const watchdogMs = parsed.watchdogMs ?? Math.max(1000, 2 * timeSliceMs);
  if (watchdogMs < 2 * timeSliceMs) {
    throw new InvalidOptionsError(
      `options.watchdogMs: must be at least twice timeSliceMs (${2 * timeSliceMs}), got ${watchdogMs}`,
      "options.watchdogMs",
    );
  }
  return {
    bus: parsed.bus,
    print: parsed.print ?? ((line) => console.log(line)),
    logger: parsed.logger ?? console,
    engines: parsed.engines ?? 1,
    instructionBudget: parsed.instructionBudget ?? 10_000_000,
    timeSliceMs,
    watchdogMs,
    memoryLimitBytes: parsed.memoryLimitBytes ?? 256 << 20,
    batchSize: parsed.batchSize ?? 512,
    relayBufferSize: parsed.relayBufferSize ?? 8192,
    queueSize: parsed.queueSize ?? 16_384,
    queueOverflow: parsed.queueOverflow ?? "drop-oldest",
    matching: parsed.matching ?? "wippy",
    allow: {
      io: allow.io ?? false,
      os: allow.os ?? false,
      debug: allow.debug ?? false,
      require: allow.require ?? false,
      bytecode: allow.bytecode ?? false,
    },
  };
}

export interface SpawnOptions {
  /** Shown in error messages and tracebacks ("worker:3: boom"). Default "process-<pid>". */
  name?: string;
  /** The engine to run it on. Default: the engine with the fewest processes. */
  engine?: number;
  /**
   * The arguments of `main` when the script returns a module (`return { main = main }`),
   * converted as event data is. Default none.
   */
  args?: readonly unknown[];
}

const spawnOptionsSchema = z.strictObject({
  name: z
    .string("must be a non-empty single-line string")
    .regex(/^[^\n\r]+$/, "must be a non-empty single-line string")
    .optional(),
  engine: z.number("must be an integer").int("must be an integer").optional(),
  args: z.array(z.unknown(), "must be an array").optional(),
});

/**
 * Checks spawn options (InvalidOptionsError naming the bad one); args become the Lua table
 * constructor of main's arguments, with `n` (nil holes kept), converted as event data is.
 */
export function resolveSpawnOptions(options: SpawnOptions): { name: string | undefined; argsLua: string } {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionsError("options: must be an object", "options");
  }
  // spawn is called in loops (a ring of 200 spawned in one turn): plain checks first, zod (~5 µs)
  // only to name what is wrong.
  const { name, engine, args } = options;
  const plain =
    (name === undefined || (typeof name === "string" && /^[^\n\r]+$/.test(name))) &&
    (engine === undefined || Number.isInteger(engine)) &&
    (args === undefined || Array.isArray(args)) &&
    Object.keys(options).every((key) => key === "name" || key === "engine" || key === "args");
  if (!plain) parseOptions(spawnOptionsSchema, options);
  if (args === undefined || args.length === 0) return { name, argsLua: "{n=0}" };
  try {
    return { name, argsLua: `${luaLiteral(args, "options.args").slice(0, -1)},n=${args.length}}` };
  } catch (error) {
    throw new InvalidOptionsError(
      `options.args: must be data that can become Lua (${error instanceof Error ? error.message : String(error)})`,
      "options.args",
      { cause: error },
    );
  }
}
