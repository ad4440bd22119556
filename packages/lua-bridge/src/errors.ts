/**
 * Why a Lua process ended badly. Each class has a stable `code` (Node's convention): callers
 * branch on `code`, never on message text.
 */
export type LuaErrorCode =
  | "LUA_ERROR"
  | "LUA_INSTRUCTION_BUDGET"
  | "LUA_MEMORY_LIMIT"
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

/** An allocation of the process would have taken the host's Lua memory above its limit. */
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
