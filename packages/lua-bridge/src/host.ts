import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { InvalidOptionsError } from "@threadbus/core";
import { type LuaEngine, LuaFactory } from "wasmoon";
import {
  LuaHostClosedError,
  LuaInstructionBudgetError,
  LuaKilledError,
  LuaMemoryLimitError,
  type LuaProcessError,
  LuaScriptError,
} from "./errors.js";
import { luaString } from "./lua_literal.js";
import { type LuaHostOptions, type ResolvedLuaHostOptions, resolveLuaHostOptions } from "./options.js";
import { ProcessRecord } from "./process_record.js";
import { Relay } from "./relay.js";
import { RUNTIME_LUA } from "./runtime_lua.js";

/** A started process. `exited` resolves with the script's first return value (converted to JS). */
export interface LuaProcess {
  readonly pid: number;
  readonly name: string;
  readonly exited: Promise<unknown>;
}

export interface SpawnOptions {
  /** Shown in error messages and tracebacks ("worker:3: boom"). Default "process-<pid>". */
  name?: string;
}

export interface LuaProcessStats {
  pid: number;
  name: string;
  /** Events routed to the process and not yet handed to Lua (the queue that grows, never drops). */
  queued: number;
  /** Events handed to Lua and not yet received by the script (at most about one batch). */
  buffered: number;
  subscriptions: number;
  /** Events routed to the process. */
  delivered: number;
  /** Routed events dropped because their subscription was closed before the script took them. */
  discarded: number;
}

export interface LuaHostStats {
  /** Live processes. */
  processes: number;
  /** Events the relay received from the bus. */
  routed: number;
  /** Deliveries into process queues (one event to three processes counts three). */
  delivered: number;
  discarded: number;
  /** Events whose data could not become Lua (delivered with `data_error`). */
  unconvertible: number;
  /** Bytes used by the host's Lua VM. */
  memoryBytes: number;
  perProcess: LuaProcessStats[];
}

interface Runtime {
  run(max: number): number;
  buffered(): string;
}

/** Resumes per tick before the host gives the event loop a turn. */
const MAX_RESUMES_PER_TICK = 1000;

type ExitStatus = "ok" | "error" | "budget" | "memory";

/**
 * Runs Lua 5.4 processes (wasmoon) on a bus. Each process is a coroutine; blocking calls yield to
 * the host's scheduler, never block the Node thread. The host subscribes to the bus once (`**`)
 * and routes each event to the processes' subscriptions.
 */
export class LuaHost {
  /** Resolves once the VM is up and the relay subscribed; rejects if either failed. */
  readonly ready: Promise<void>;
  readonly #options: ResolvedLuaHostOptions;
  readonly #processes = new Map<number, ProcessRecord>();
  readonly #relay: Relay;
  #engine: LuaEngine | null = null;
  #runtime: Runtime | null = null;
  #commands: string[] = [];
  #nextPid = 0;
  #nextSubscription = 0;
  #nextTimer = 0;
  #tickScheduled = false;
  #moreWork = false;
  #running = false;
  #started = false;
  #closed = false;
  #closing: Promise<void> | null = null;
  #discardedByGone = 0;
  #deliveredByGone = 0;

  constructor(options: LuaHostOptions) {
    this.#options = resolveLuaHostOptions(options);
    this.#relay = new Relay(
      (process) => this.#onRouted(process),
      (error) => this.#options.logger.error("threadbus lua: the relay failed", error),
    );
    this.ready = this.#start();
    this.ready.catch((error) => this.#options.logger.error("threadbus lua: the host failed to start", error));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts a process running `source`. Compile errors reject `exited` (with the line). */
  spawn(source: string, options: SpawnOptions = {}): LuaProcess {
    if (typeof source !== "string") {
      throw new InvalidOptionsError(
        `source must be Lua source text (a string), got ${typeof source}`,
        "source",
      );
    }
    const name = checkName(options);
    const pid = ++this.#nextPid;
    const record = new ProcessRecord(pid, name ?? `process-${pid}`, true);
    if (this.#closed) {
      record.state = "dead";
      record.rejectExit(new LuaHostClosedError({ pid, processName: record.name }));
    } else {
      this.#processes.set(pid, record);
      this.#command(`S(${pid},${luaString(record.name)},${luaString(source)})`);
    }
    return { pid, name: record.name, exited: record.exited };
  }

  /** Reads a Lua file and spawns it; the default name is the file's base name without extension. */
  async spawnFile(path: string, options: SpawnOptions = {}): Promise<LuaProcess> {
    if (typeof path !== "string" || path === "") {
      throw new InvalidOptionsError("path must be a non-empty string", "path");
    }
    const name = checkName(options) ?? basename(path, extname(path));
    const source = await readFile(path, "utf8");
    return this.spawn(source, { name });
  }

  /** Stops a process at its next yield point; its subscriptions go at once. False if not running. */
  kill(pid: number): boolean {
    const record = this.#processes.get(pid);
    if (!record || record.state === "dead") return false;
    this.#end(record, new LuaKilledError({ pid, processName: record.name }));
    this.#command(`K(${pid})`);
    return true;
  }

  stats(): LuaHostStats {
    const buffered = new Map<number, number>();
    if (this.#runtime && !this.#running) {
      const pairs = this.#runtime.buffered().split(" ");
      for (let i = 0; i + 1 < pairs.length; i += 2) buffered.set(Number(pairs[i]), Number(pairs[i + 1]));
    }
    const perProcess: LuaProcessStats[] = [];
    let delivered = this.#deliveredByGone;
    let discarded = this.#discardedByGone;
    for (const record of this.#processes.values()) {
      delivered += record.delivered;
      discarded += record.discarded;
      perProcess.push({
        pid: record.pid,
        name: record.name,
        queued: record.queued,
        buffered: buffered.get(record.pid) ?? 0,
        subscriptions: record.subscriptions.size,
        delivered: record.delivered,
        discarded: record.discarded,
      });
    }
    return {
      processes: perProcess.length,
      routed: this.#relay.routed,
      delivered,
      discarded,
      unconvertible: this.#relay.unconvertible,
      memoryBytes: this.#engine?.global.getMemoryUsed() ?? 0,
      perProcess,
    };
  }

  /**
   * Resolves when nothing is left to do for now: every event sent before the call has been routed
   * and every process is blocked (waiting for events, messages or a timer) or gone.
   */
  async settled(): Promise<void> {
    await this.ready;
    for (;;) {
      if (!this.#options.bus.closed) await this.#options.bus.flush();
      await new Promise((resolve) => setImmediate(resolve));
      const quiet =
        !this.#tickScheduled && !this.#moreWork && this.#commands.length === 0 && this.#relay.backlog === 0;
      if (quiet || this.#closed) return;
    }
  }

  /** Ends every process (their `exited` reject with LuaHostClosedError) and frees the VM. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    for (const record of this.#processes.values()) {
      if (record.state !== "dead")
        this.#end(record, new LuaHostClosedError({ pid: record.pid, processName: record.name }));
    }
    this.#closing = (async () => {
      await this.ready.catch(() => {});
      await this.#relay.stop();
      while (this.#running) await new Promise((resolve) => setImmediate(resolve));
      this.#engine?.global.close();
      this.#engine = null;
      this.#runtime = null;
    })();
    return this.#closing;
  }

  async #start(): Promise<void> {
    const engine = await new LuaFactory().createEngine({
      openStandardLibs: true,
      injectObjects: false,
      enableProxy: false,
      traceAllocations: true,
    });
    const options = this.#options;
    engine.global.set("__threadbus_host", this.#hostFunctions(engine));
    engine.global.set("__threadbus_config", {
      instructionBudget: options.instructionBudget,
      io: options.allow.io,
      os: options.allow.os,
      debug: options.allow.debug,
      require: options.allow.require,
      bytecode: options.allow.bytecode,
    });
    this.#runtime = engine.doStringSync(RUNTIME_LUA) as Runtime;
    this.#engine = engine;
    if (this.#closed) {
      engine.global.close();
      this.#engine = null;
      return;
    }
    await this.#relay.start(options.bus, options.relayBufferSize);
    this.#started = true;
    this.#scheduleTick();
  }

  /** The functions the Lua runtime calls. They return strings/numbers, and never throw into Lua. */
  #hostFunctions(engine: LuaEngine): Record<string, (...args: never[]) => unknown> {
    const options = this.#options;
    const live = (pid: number): ProcessRecord | undefined => {
      const record = this.#processes.get(pid);
      return record && record.state !== "dead" ? record : undefined;
    };
    return {
      poll: (): string | undefined => {
        if (this.#commands.length === 0) return undefined;
        const commands = this.#commands.join("\n");
        this.#commands = [];
        return commands;
      },
      pull: (pid: number): string | undefined => {
        const record = live(pid);
        if (!record) return undefined;
        const batch = record.take(options.batchSize, this.#relay.render);
        if (batch === undefined) record.wantsWake = true;
        return batch;
      },
      subscribe: (pid: number, system: string, kind: string, path: string): number | string => {
        const record = live(pid);
        if (!record) return "the process is not running";
        const id = ++this.#nextSubscription;
        const indexId = `lua.${id}`;
        try {
          this.#relay.add(indexId, system, kind, path, { process: record, subscription: id });
        } catch (error) {
          return error instanceof Error ? error.message : String(error);
        }
        record.subscriptions.set(id, indexId);
        return id;
      },
      unsubscribe: (pid: number, id: number): void => {
        const record = this.#processes.get(pid);
        const indexId = record?.subscriptions.get(id);
        if (!record || indexId === undefined) return;
        record.subscriptions.delete(id);
        this.#relay.remove(indexId);
      },
      send: (pid: number, system: string, kind: string, path: string, json: string): string | undefined => {
        if (!live(pid)) return "the process is not running";
        const bus = options.bus;
        if (bus.closed) return "the bus is closed";
        try {
          const data = json === "" ? undefined : JSON.parse(json);
          const event = data === undefined ? { system, kind, path } : { system, kind, path, data };
          return bus.send(event) ? undefined : "the bus refused the event (closed or full)";
        } catch (error) {
          return error instanceof Error ? error.message : String(error);
        }
      },
      register: (parent: number, name: string): number => {
        const pid = ++this.#nextPid;
        const record = new ProcessRecord(pid, name, false);
        record.state = this.#closed ? "dead" : "live";
        if (!this.#closed) this.#processes.set(pid, record);
        void parent;
        return pid;
      },
      exit: (pid: number, status: ExitStatus, message: string, payload: string): void => {
        this.#onExit(pid, status, message, payload);
      },
      print: (pid: number, line: string): void => {
        const record = this.#processes.get(pid);
        try {
          options.print(line, { pid, name: record?.name ?? `process-${pid}` });
        } catch (error) {
          options.logger.error("threadbus lua: the print callback threw", error);
        }
      },
      sleep: (pid: number, ms: number): number => {
        const token = ++this.#nextTimer;
        const record = live(pid);
        if (!record) return token;
        const timer = setTimeout(
          () => {
            record.timers.delete(token);
            this.#command(`T(${pid},${token})`);
          },
          Math.min(Math.ceil(ms), 2 ** 31 - 1),
        );
        record.timers.set(token, timer);
        return token;
      },
      now: (): number => performance.now(),
      limit: (on: number): void => {
        // The limit holds only while a process runs: the scheduler's own allocations (outside
        // any protected call) must never fail, or Lua would abort the whole VM.
        engine.global.setMemoryMax(on === 1 ? options.memoryLimitBytes : undefined);
      },
    };
  }

  #onExit(pid: number, status: ExitStatus, message: string, payload: string): void {
    const record = this.#processes.get(pid);
    if (!record) return;
    if (record.state === "dead") {
      this.#forget(record);
      return;
    }
    if (status === "ok") {
      let value: unknown;
      try {
        value = payload === "" ? undefined : JSON.parse(payload);
      } catch (error) {
        this.#end(record, scriptError(record, `return value: ${String(error)}`, ""));
        return;
      }
      this.#end(record, undefined, value);
      return;
    }
    const details = { pid, processName: record.name, luaMessage: message, luaTraceback: payload };
    const error =
      status === "budget"
        ? new LuaInstructionBudgetError(details, this.#options.instructionBudget)
        : status === "memory"
          ? new LuaMemoryLimitError(details, this.#options.memoryLimitBytes)
          : scriptError(record, message, payload);
    this.#end(record, error);
  }

  /** Ends a process on the JS side: subscriptions, timers and queue go at once. */
  #end(record: ProcessRecord, error: LuaProcessError | undefined, value?: unknown): void {
    record.state = "dead";
    for (const indexId of record.subscriptions.values()) this.#relay.remove(indexId);
    record.subscriptions.clear();
    for (const timer of record.timers.values()) clearTimeout(timer);
    record.timers.clear();
    record.discarded += record.clear();
    this.#forget(record);
    if (error === undefined) record.resolveExit(value);
    else {
      record.rejectExit(error);
      if (!record.observed && !(error instanceof LuaKilledError) && !(error instanceof LuaHostClosedError)) {
        this.#options.logger.error(error.message);
      }
    }
  }

  #forget(record: ProcessRecord): void {
    if (this.#processes.get(record.pid) !== record) return;
    this.#processes.delete(record.pid);
    this.#deliveredByGone += record.delivered;
    this.#discardedByGone += record.discarded;
  }

  #onRouted(record: ProcessRecord): void {
    if (!record.wantsWake) return;
    record.wantsWake = false;
    this.#command(`W(${record.pid})`);
  }

  #command(command: string): void {
    this.#commands.push(command);
    this.#scheduleTick();
  }

  #scheduleTick(): void {
    if (this.#tickScheduled || !this.#started || this.#closed) return;
    this.#tickScheduled = true;
    // setImmediate, not a microtask: every event the relay routes meanwhile joins the same batch.
    setImmediate(this.#tick);
  }

  readonly #tick = (): void => {
    this.#tickScheduled = false;
    const runtime = this.#runtime;
    if (!runtime || this.#closed) return;
    this.#running = true;
    try {
      this.#moreWork = runtime.run(MAX_RESUMES_PER_TICK) === 1;
    } catch (error) {
      this.#moreWork = false;
      this.#options.logger.error("threadbus lua: scheduler fault", error);
    } finally {
      this.#running = false;
    }
    if (this.#moreWork) this.#scheduleTick();
  };
}

function checkName(options: SpawnOptions): string | undefined {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionsError("options must be an object", "options");
  }
  const { name } = options;
  if (name !== undefined && (typeof name !== "string" || name === "" || /[\n\r]/.test(name))) {
    throw new InvalidOptionsError("options.name must be a non-empty single-line string", "options.name");
  }
  return name;
}

function scriptError(record: ProcessRecord, message: string, traceback: string): LuaScriptError {
  return new LuaScriptError({
    pid: record.pid,
    processName: record.name,
    luaMessage: message,
    luaTraceback: traceback,
  });
}
