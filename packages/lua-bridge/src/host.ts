import { readFile } from "node:fs/promises";
import { basename, extname } from "node:path";
import { InvalidOptionsError } from "@threadbus/core";
import { EngineThread } from "./engine_thread.js";
import {
  exitError,
  LuaEngineFailedError,
  LuaHostClosedError,
  LuaKilledError,
  type LuaProcessError,
  LuaScriptError,
  LuaTimeLimitError,
} from "./errors.js";
import {
  type LuaHostOptions,
  type ResolvedLuaHostOptions,
  resolveLuaHostOptions,
  resolveSpawnOptions,
  type SpawnOptions,
} from "./options.js";
import type { EngineMessage, ExitStatus } from "./protocol.js";
import { SharedState } from "./shared_state.js";
import { type LuaHostStats, StatsBook } from "./stats.js";
import { type Stuck, Watchdog } from "./watchdog.js";

/** A started process. `exited` resolves with the script's first return value (converted to JS). */
export interface LuaProcess {
  readonly pid: number;
  readonly name: string;
  /** The engine (0 .. engines - 1) that runs it. */
  readonly engine: number;
  readonly exited: Promise<unknown>;
}

interface HostProcess {
  readonly pid: number;
  readonly name: string;
  readonly engine: number;
  /** False for processes spawned from Lua: nobody holds `exited`, so failures are logged. */
  readonly observed: boolean;
  readonly exited: Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * Runs Lua 5.4 processes (wasmoon) on a bus, on engine threads: no script ever runs on the
 * caller's thread. Each process is a coroutine on one engine; blocking calls yield to that
 * engine's scheduler. Each engine subscribes to the bus once (`**`) and routes each event to its
 * processes' subscriptions. A watchdog replaces an engine stuck where Lua cannot interrupt it.
 */
export class LuaHost {
  /** Resolves once every engine is up and subscribed; rejects if one failed to start. */
  readonly ready: Promise<void>;
  readonly #options: ResolvedLuaHostOptions;
  readonly #shared: SharedState;
  readonly #engines: EngineThread[] = [];
  readonly #watchdog: Watchdog;
  readonly #processes = new Map<number, HostProcess>();
  readonly #perEngine: number[];
  readonly #stats: StatsBook;
  /** host.register(id, source), replayed to an engine that restarts. */
  readonly #scripts = new Map<string, string>();
  #closed = false;
  #closing: Promise<void> | null = null;

  constructor(options: LuaHostOptions) {
    this.#options = resolveLuaHostOptions(options);
    const { engines } = this.#options;
    this.#shared = SharedState.create(engines);
    this.#perEngine = new Array(engines).fill(0);
    this.#stats = new StatsBook(engines);
    for (let index = 0; index < engines; index++) {
      this.#engines.push(
        new EngineThread({
          config: {
            index,
            engines,
            instructionBudget: this.#options.instructionBudget,
            timeSliceMs: this.#options.timeSliceMs,
            memoryLimitBytes: this.#options.memoryLimitBytes,
            batchSize: this.#options.batchSize,
            relayBufferSize: this.#options.relayBufferSize,
            queueSize: this.#options.queueSize,
            queueOverflow: this.#options.queueOverflow,
            matching: this.#options.matching,
            allow: this.#options.allow,
          },
          bus: this.#options.bus,
          shared: this.#shared,
          logger: this.#options.logger,
          onMessages: (thread, messages) => this.#onMessages(thread, messages),
          onFailed: (thread, cause, culprit, started) =>
            this.#onEngineFailed(thread, cause, culprit, started),
        }),
      );
    }
    this.#watchdog = new Watchdog(
      this.#shared,
      engines,
      this.#options.watchdogMs,
      (engine) => this.#engines[engine]!.cpuMs(),
      (stuck) => this.#onStuck(stuck),
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
    const { name, argsLua } = resolveSpawnOptions(options);
    const engine = this.#checkEngine(options) ?? this.#leastLoaded();
    const pid = this.#shared.nextPid();
    const process = this.#register(pid, name ?? `process-${pid}`, engine, true);
    const thread = this.#engines[engine]!;
    if (this.#closed) {
      this.#end(process, new LuaHostClosedError({ pid, processName: process.name }));
    } else if (thread.broken !== null) {
      this.#end(
        process,
        new LuaEngineFailedError({ pid, processName: process.name, engine, cause: thread.broken }),
      );
    } else {
      thread.syncBus();
      this.#shared.placed(pid, engine);
      thread.post({ type: "spawn", pid, name: process.name, source, args: argsLua });
    }
    return { pid, name: process.name, engine, exited: process.exited };
  }

  /** Reads a Lua file and spawns it; the default name is the file's base name without extension. */
  async spawnFile(path: string, options: SpawnOptions = {}): Promise<LuaProcess> {
    if (typeof path !== "string" || path === "") {
      throw new InvalidOptionsError("path must be a non-empty string", "path");
    }
    const name = resolveSpawnOptions(options).name ?? basename(path, extname(path));
    this.#checkEngine(options);
    const source = await readFile(path, "utf8");
    return this.spawn(source, { ...options, name });
  }

  /**
   * Registers a script under `id` for Lua's `process.spawn(id, host, ...)` (Wippy spawns
   * registry entries by id). A later register of the same id replaces it for later spawns.
   */
  register(id: string, source: string): void {
    if (typeof id !== "string" || id === "")
      throw new InvalidOptionsError("id: must be a non-empty string", "id");
    if (typeof source !== "string") {
      throw new InvalidOptionsError(
        `source: must be Lua source text (a string), got ${typeof source}`,
        "source",
      );
    }
    this.#scripts.set(id, source);
    for (const engine of this.#engines) engine.post({ type: "register", id, source });
  }

  /** Stops a process at its next yield point; its subscriptions go at once. False if not running. */
  kill(pid: number): boolean {
    const process = this.#processes.get(pid);
    if (!process) return false;
    this.#end(process, new LuaKilledError({ pid, processName: process.name }));
    this.#engines[process.engine]!.post({ type: "kill", pid });
    return true;
  }

  stats(): LuaHostStats {
    return this.#stats.build(
      this.#processes.values(),
      this.#engines.map((engine) => ({
        processes: this.#perEngine[engine.index]!,
        sendRefused: engine.sendRefused,
      })),
    );
  }

  /**
   * Resolves when nothing is left to do for now: every event sent before the call has been routed
   * and every process is blocked (waiting for events, messages or a timer) or gone. Waits for
   * rounds of (bus flush, every engine quiet) until one round changes nothing.
   */
  async settled(): Promise<void> {
    await this.ready;
    let previous = Number.NaN;
    for (;;) {
      const bus = this.#options.bus;
      if (!bus.closed) await bus.flush().catch(() => {});
      await new Promise((resolve) => setImmediate(resolve));
      const activity = (await Promise.all(this.#engines.map((engine) => engine.settle()))).reduce(
        (sum, a) => sum + a,
        0,
      );
      if (this.#closed) return;
      const bridgesIdle = this.#engines.every((engine) => engine.bridgeIdle);
      if (bridgesIdle && activity === previous) return;
      previous = activity;
    }
  }

  /** Ends every process (their `exited` reject with LuaHostClosedError) and stops the engines. Idempotent. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    for (const process of this.#processes.values()) {
      this.#end(process, new LuaHostClosedError({ pid: process.pid, processName: process.name }));
    }
    this.#watchdog.stop();
    this.#closing = (async () => {
      // `ready` is unset while the constructor runs (a start that fails at once closes the host).
      await Promise.resolve(this.ready).catch(() => {});
      await Promise.all(this.#engines.map((engine) => engine.close()));
    })();
    return this.#closing;
  }

  async #start(): Promise<void> {
    this.#watchdog.start();
    try {
      await Promise.all(this.#engines.map((engine) => engine.start()));
    } catch (error) {
      // Not awaited: close() waits for `ready`, which is this.
      void this.close();
      throw error;
    }
  }

  #register(pid: number, name: string, engine: number, observed: boolean): HostProcess {
    let resolve!: (value: unknown) => void;
    let reject!: (error: Error) => void;
    const exited = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Marks the promise handled: a caller who ignores `exited` must not crash the process.
    exited.catch(() => {});
    const process: HostProcess = { pid, name, engine, observed, exited, resolve, reject };
    this.#processes.set(pid, process);
    this.#perEngine[engine]!++;
    this.#engines[engine]!.hold();
    return process;
  }

  /** Settles a process's `exited` and forgets it. */
  #end(process: HostProcess, error: LuaProcessError | undefined, value?: unknown): void {
    if (this.#processes.get(process.pid) !== process) return;
    this.#processes.delete(process.pid);
    this.#shared.ended(process.pid);
    this.#stats.forget(process.engine, process.pid);
    this.#perEngine[process.engine]!--;
    this.#engines[process.engine]!.release();
    if (error === undefined) {
      process.resolve(value);
      return;
    }
    process.reject(error);
    if (!process.observed && !(error instanceof LuaKilledError) && !(error instanceof LuaHostClosedError)) {
      this.#options.logger.error(error.message);
    }
  }

  #onMessages(thread: EngineThread, messages: EngineMessage[]): void {
    for (const message of messages) {
      switch (message.type) {
        case "spawned":
          if (this.#closed) break;
          this.#register(message.pid, message.name, thread.index, false);
          break;
        case "exit":
          this.#onExit(message.pid, message.status, message.message, message.payload);
          break;
        case "print":
          this.#print(message.pid, message.line);
          break;
        case "post":
          this.#route(message.from, message.pid, message.topic, message.args);
          break;
        case "terminate":
          this.kill(message.pid);
          break;
        case "log":
          this.#options.logger[message.level](message.message);
          break;
        case "stats":
          this.#stats.reported(thread.index, message.totals, message.processes);
          break;
      }
    }
  }

  #onExit(pid: number, status: ExitStatus, message: string, payload: string): void {
    const process = this.#processes.get(pid);
    if (!process) return;
    if (status === "ok") {
      let value: unknown;
      try {
        value = payload === "" ? undefined : JSON.parse(payload);
      } catch (error) {
        this.#end(process, scriptError(process, `return value: ${String(error)}`, ""));
        return;
      }
      this.#end(process, undefined, value);
      return;
    }
    const details = { pid, processName: process.name, luaMessage: message, luaTraceback: payload };
    this.#end(process, exitError(status, details, this.#options));
  }

  #print(pid: number, line: string): void {
    const name = this.#processes.get(pid)?.name ?? `process-${pid}`;
    try {
      this.#options.print(line, { pid, name });
    } catch (error) {
      this.#options.logger.error("threadbus lua: the print callback threw", error);
    }
  }

  /** process.send between engines: the target's engine gets a copy. */
  #route(from: number, pid: number, topic: string, args: string): void {
    const target = this.#processes.get(pid);
    if (!target) {
      this.#stats.messageLost();
      return;
    }
    this.#engines[target.engine]!.post({ type: "deliver", pid, from, topic, args });
  }

  #onStuck(stuck: Stuck): void {
    const thread = this.#engines[stuck.engine];
    if (!thread?.running) return;
    const culprit = this.#processes.get(stuck.pid);
    const where = culprit ? `process ${culprit.pid} (${culprit.name})` : "routing events";
    this.#options.logger.error(
      `threadbus lua: engine ${stuck.engine} was busy in ${where} for ${Math.round(stuck.busyMs)} ms ` +
        `(watchdogMs ${this.#options.watchdogMs}); terminating it and starting a fresh one`,
    );
    thread.terminate(
      stuck.pid,
      new Error(`engine ${stuck.engine} was stuck for ${Math.round(stuck.busyMs)} ms`),
    );
  }

  /** An engine thread died or was terminated: end its processes, keep its counters, replace it. */
  #onEngineFailed(thread: EngineThread, cause: unknown, culpritPid: number, started: boolean): void {
    const index = thread.index;
    const culprit = this.#processes.get(culpritPid);
    for (const process of [...this.#processes.values()]) {
      if (process.engine !== index) continue;
      const details = { pid: process.pid, processName: process.name };
      if (process === culprit) {
        this.#end(
          process,
          new LuaTimeLimitError(details, this.#options.timeSliceMs, true, this.#options.watchdogMs),
        );
      } else {
        this.#end(
          process,
          new LuaEngineFailedError({
            ...details,
            engine: index,
            culpritPid: culprit?.pid,
            culpritName: culprit?.name,
            cause: culprit ? undefined : cause,
          }),
        );
      }
    }
    const restarting = started && !this.#closed;
    this.#stats.replaced(index, thread.sendRefused, restarting);
    if (this.#closed) return;
    if (!started) {
      // It never ran: starting it again would fail the same way. Its spawns fail from now on.
      this.#options.logger.error(`threadbus lua: engine ${index} could not start`, cause);
      return;
    }
    if (!culprit)
      this.#options.logger.error(`threadbus lua: engine ${index} failed; starting a fresh one`, cause);
    void thread.start();
    for (const [id, source] of this.#scripts) thread.post({ type: "register", id, source });
  }

  #checkEngine(options: SpawnOptions): number | undefined {
    const { engine } = options;
    if (engine === undefined) return undefined;
    const count = this.#engines.length;
    if (typeof engine !== "number" || !Number.isInteger(engine) || engine < 0 || engine >= count) {
      throw new InvalidOptionsError(
        `options.engine must be an integer from 0 to ${count - 1}, got ${String(engine)}`,
        "options.engine",
      );
    }
    return engine;
  }

  /** The working engine with the fewest processes (engine 0 if none works: the spawn then fails). */
  #leastLoaded(): number {
    let best = -1;
    for (let engine = 0; engine < this.#perEngine.length; engine++) {
      if (this.#engines[engine]!.broken !== null) continue;
      if (best < 0 || this.#perEngine[engine]! < this.#perEngine[best]!) best = engine;
    }
    return Math.max(best, 0);
  }
}

function scriptError(process: HostProcess, message: string, traceback: string): LuaScriptError {
  return new LuaScriptError({
    pid: process.pid,
    processName: process.name,
    luaMessage: message,
    luaTraceback: traceback,
  });
}
