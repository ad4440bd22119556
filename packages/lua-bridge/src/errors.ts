/**
 * Why a Lua process ended badly. Each class has a stable `code` (Node's convention): callers
 * branch on `code`, never on message text.
 */
export type LuaErrorCode =
  | "LUA_ERROR"
  | "LUA_INSTRUCTION_BUDGET"
  | "LUA_TIME_LIMIT"
  | "LUA_MEMORY_LIMIT"
  | "LUA_ENGINE_FAILED"
  | "LUA_KILLED"
  | "LUA_HOST_CLOSED";

export interface LuaErrorDetails {
  pid: number;
  processName: string;
  /** The message as Lua produced it ("worker:3: boom"). */
  luaMessage?: string;
  /** Lua's stack traceback at the point of failure, when there is one. */
  luaTraceback?: string;
}

export abstract class LuaProcessError extends Error {
  abstract readonly code: LuaErrorCode;
  readonly pid: number;
  readonly processName: string;
  readonly luaMessage: string;
  readonly luaTraceback: string;

  constructor(message: string, details: LuaErrorDetails) {
    super(message);
    this.name = new.target.name;
    this.pid = details.pid;
    this.processName = details.processName;
    this.luaMessage = details.luaMessage ?? message;
    this.luaTraceback = details.luaTraceback ?? "";
  }
}

const LOCATION = /^([^\n]*?):(\d+): /;

/** The script raised an error (or failed to compile); `line` is the script line Lua reported. */
export class LuaScriptError extends LuaProcessError {
  readonly code = "LUA_ERROR" as const;
  /** The chunk name Lua reported ("worker" for a process named worker), if the message has one. */
  readonly chunk: string | undefined;
  readonly line: number | undefined;

  constructor(details: LuaErrorDetails & { luaMessage: string }) {
    super(`Lua process ${details.pid} (${details.processName}) failed: ${details.luaMessage}`, details);
    const location = LOCATION.exec(details.luaMessage);
    this.chunk = location?.[1];
    this.line = location ? Number(location[2]) : undefined;
  }
}

/** The process ran more instructions than the budget allows without yielding (an endless loop). */
export class LuaInstructionBudgetError extends LuaProcessError {
  readonly code = "LUA_INSTRUCTION_BUDGET" as const;
  constructor(
    details: LuaErrorDetails,
    readonly budget: number,
  ) {
    super(
      `Lua process ${details.pid} (${details.processName}) ran ${budget} instructions without yielding and was stopped (instructionBudget)`,
      details,
    );
  }
}

/**
 * The process ran longer than its time slice without yielding. `stuck` is true when it could not
 * even be interrupted (it was inside C code, such as a string pattern that backtracks) and the
 * watchdog terminated its engine after `watchdogMs`; the other processes of that engine then end
 * with LuaEngineFailedError naming this one.
 */
export class LuaTimeLimitError extends LuaProcessError {
  readonly code = "LUA_TIME_LIMIT" as const;
  constructor(
    details: LuaErrorDetails,
    readonly timeSliceMs: number,
    readonly stuck: boolean,
    readonly watchdogMs: number,
  ) {
    super(
      stuck
        ? `Lua process ${details.pid} (${details.processName}) did not yield for ${watchdogMs} ms and could not be interrupted (stuck in C code, such as a string pattern); its engine was terminated and restarted (watchdogMs)`
        : `Lua process ${details.pid} (${details.processName}) ran longer than its ${timeSliceMs} ms time slice without yielding and was stopped (timeSliceMs)`,
      details,
    );
  }
}

/**
 * The engine thread running the process was terminated (the watchdog found it stuck in another
 * process, named by `culpritPid`/`culpritName`) or died (`cause`). A fresh engine replaced it.
 */
export class LuaEngineFailedError extends LuaProcessError {
  readonly code = "LUA_ENGINE_FAILED" as const;
  readonly engine: number;
  readonly culpritPid: number | undefined;
  readonly culpritName: string | undefined;

  constructor(
    details: LuaErrorDetails & { engine: number; culpritPid?: number; culpritName?: string; cause?: unknown },
  ) {
    const why =
      details.culpritPid !== undefined
        ? `process ${details.culpritPid} (${details.culpritName ?? "?"}) got it stuck and the watchdog terminated it`
        : `it failed${details.cause instanceof Error ? `: ${details.cause.message}` : ""}`;
    super(
      `Lua process ${details.pid} (${details.processName}) ended: its engine ${details.engine} was restarted because ${why}`,
      details,
    );
    this.engine = details.engine;
    this.culpritPid = details.culpritPid;
    this.culpritName = details.culpritName;
    if (details.cause !== undefined) this.cause = details.cause;
  }
}

/** An allocation of the process would have taken its engine's Lua memory above its limit. */
export class LuaMemoryLimitError extends LuaProcessError {
  readonly code = "LUA_MEMORY_LIMIT" as const;
  constructor(
    details: LuaErrorDetails,
    readonly limitBytes: number,
  ) {
    super(
      `Lua process ${details.pid} (${details.processName}) exceeded the Lua memory limit of ${limitBytes} bytes and was stopped (memoryLimitBytes)`,
      details,
    );
  }
}

export class LuaKilledError extends LuaProcessError {
  readonly code = "LUA_KILLED" as const;
  constructor(details: LuaErrorDetails) {
    super(`Lua process ${details.pid} (${details.processName}) was killed`, details);
  }
}

export class LuaHostClosedError extends LuaProcessError {
  readonly code = "LUA_HOST_CLOSED" as const;
  constructor(details: LuaErrorDetails) {
    super(`Lua process ${details.pid} (${details.processName}) ended: the Lua host was closed`, details);
  }
}

/** The error for a process that ended with `status` (anything but "ok"), with the limits it broke. */
export function exitError(
  status: "error" | "budget" | "time" | "memory",
  details: LuaErrorDetails & { luaMessage: string },
  limits: { instructionBudget: number; timeSliceMs: number; watchdogMs: number; memoryLimitBytes: number },
): LuaProcessError {
  switch (status) {
    case "budget":
      return new LuaInstructionBudgetError(details, limits.instructionBudget);
    case "time":
      return new LuaTimeLimitError(details, limits.timeSliceMs, false, limits.watchdogMs);
    case "memory":
      return new LuaMemoryLimitError(details, limits.memoryLimitBytes);
    default:
      return new LuaScriptError(details);
  }
}
