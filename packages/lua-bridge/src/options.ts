import { type EventBus, InvalidOptionsError, type Logger, type OverflowPolicy } from "@threadbus/core";

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
  allow: Required<LuaSandboxAllow>;
}

const ALLOW_KEYS = ["io", "os", "debug", "require", "bytecode"] as const;
const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ["block", "drop-oldest", "drop-newest"];

function fail(option: string, message: string): never {
  throw new InvalidOptionsError(`options.${option} ${message}`, `options.${option}`);
}

function integer(value: unknown, option: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(option, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === "function")
  );
}

/** Checks every option up front; throws InvalidOptionsError (code INVALID_OPTIONS) naming the bad one. */
export function resolveLuaHostOptions(options: LuaHostOptions): ResolvedLuaHostOptions {
  if (typeof options !== "object" || options === null) fail("", "must be an object with a `bus`");
  if (!hasMethods(options.bus, ["subscribe", "send", "flush"])) {
    fail("bus", "must be an EventBus (a Bus or WorkerBus)");
  }
  if (options.print !== undefined && typeof options.print !== "function") fail("print", "must be a function");
  if (options.logger !== undefined && !hasMethods(options.logger, ["warn", "error"])) {
    fail("logger", "must have warn() and error() methods");
  }
  const allow = options.allow ?? {};
  if (typeof allow !== "object" || allow === null) fail("allow", "must be an object");
  for (const key of Object.keys(allow)) {
    if (!(ALLOW_KEYS as readonly string[]).includes(key)) {
      fail(`allow.${key}`, `is not a sandbox capability (known: ${ALLOW_KEYS.join(", ")})`);
    }
    const value = (allow as Record<string, unknown>)[key];
    if (value !== undefined && typeof value !== "boolean") fail(`allow.${key}`, "must be a boolean");
  }
  const timeSliceMs = integer(options.timeSliceMs, "timeSliceMs", 1, 60_000, 100);
  const watchdogMs = integer(options.watchdogMs, "watchdogMs", 2, 600_000, Math.max(1000, 2 * timeSliceMs));
  if (watchdogMs < 2 * timeSliceMs) {
    fail("watchdogMs", `must be at least twice timeSliceMs (${2 * timeSliceMs}), got ${watchdogMs}`);
  }
  const queueOverflow = options.queueOverflow ?? "drop-oldest";
  if (!OVERFLOW_POLICIES.includes(queueOverflow)) {
    fail("queueOverflow", `must be one of ${OVERFLOW_POLICIES.join(", ")}, got ${String(queueOverflow)}`);
  }
  return {
    bus: options.bus,
    print: options.print ?? ((line) => console.log(line)),
    logger: options.logger ?? console,
    engines: integer(options.engines, "engines", 1, 64, 1),
    instructionBudget: integer(options.instructionBudget, "instructionBudget", 1000, 2 ** 31 - 1, 10_000_000),
    timeSliceMs,
    watchdogMs,
    memoryLimitBytes: integer(options.memoryLimitBytes, "memoryLimitBytes", 1 << 20, 2 ** 31, 256 << 20),
    batchSize: integer(options.batchSize, "batchSize", 1, 65_536, 512),
    relayBufferSize: integer(options.relayBufferSize, "relayBufferSize", 1, 1 << 24, 8192),
    queueSize: integer(options.queueSize, "queueSize", 1, 1 << 24, 16_384),
    queueOverflow,
    allow: {
      io: allow.io ?? false,
      os: allow.os ?? false,
      debug: allow.debug ?? false,
      require: allow.require ?? false,
      bytecode: allow.bytecode ?? false,
    },
  };
}
