import type { EventBus } from "@threadbus/core";
import { osThreadId, threadCpuMs } from "@threadbus/worker/thread-cpu";
import { luaLiteral, luaString } from "./lua_literal.js";
import { luaSources } from "./lua_sources.js";
import { createLuaVm, type LuaVm } from "./lua_vm.js";
import { luaFilter } from "./matching.js";
import type { ProcessRecord } from "./process_record.js";
import { ProcessTable } from "./process_table.js";
import type {
  EngineConfig,
  EngineCounters,
  EngineMessage,
  ExitStatus,
  HostMessage,
  ProcessCounters,
} from "./protocol.js";
import { Relay } from "./relay.js";
import type { Place, SharedState } from "./shared_state.js";
import { globProblem, patternProblem } from "./subscription_limits.js";

/** What the Lua scheduler (scheduler.lua) offers JS. */
interface Runtime {
  run(max: number): number;
  buffered(): string;
}

/** Resumes per tick at most; the tick also ends after 20 ms (scheduler.lua). */
const MAX_RESUMES_PER_TICK = 1000;
/** Per-process counters go to the host at most this often (and after each settle). */
const STATS_EVERY_MS = 250;
/** At most one "unconvertible data" warning per this many ms. */
const WARN_EVERY_MS = 1000;

/**
 * One engine, inside its own worker thread: a wasmoon VM running the Lua scheduler, the relay
 * that routes bus events to its processes, and their JS-side records. It talks to the host only
 * by messages (`handle` in, `emit` out), so nothing it does can block the host's thread.
 */
export class Engine {
  readonly #config: EngineConfig;
  readonly #shared: SharedState;
  readonly #bus: EventBus;
  readonly #emit: (messages: EngineMessage[]) => void;
  readonly #processes: ProcessTable;
  readonly #relay: Relay;
  #vm: LuaVm | null = null;
  #runtime: Runtime | null = null;
  #commands: string[] = [];
  #outbox: EngineMessage[] = [];
  #flushScheduled = false;
  #tickScheduled = false;
  #closed = false;
  #nextSubscription = 0;
  #nextTimer = 0;
  #ticks = 0;
  /** Activity (ticks + routed events) when per-process counters were last sent. */
  #lastStats = 0;
  #statsTimer: NodeJS.Timeout | null = null;
  #statsDue = false;

  #messagesLost = 0;
  /** process.send to pids placed on this engine whose spawn has not arrived yet, in send order. */
  readonly #awaitingStart = new Map<number, { from: number; topic: string; args: string }[]>();
  #unconvertible = 0;
  #lastWarning = 0;
  /** host.register(id, source): what process.spawn(id, ...) runs. */
  readonly #scripts = new Map<string, string>();

  constructor(
    config: EngineConfig,
    shared: SharedState,
    bus: EventBus,
    emit: (messages: EngineMessage[]) => void,
  ) {
    this.#config = config;
    this.#shared = shared;
    this.#bus = bus;
    this.#emit = emit;
    const index = config.index;
    this.#relay = new Relay({
      routed: (record) => this.#onRouted(record),
      unconvertible: (record, reason) => this.#onUnconvertible(record, reason),
      busy: () => shared.busy(index),
      idle: () => shared.idle(index),
      fault: (error) =>
        this.#log("error", `threadbus lua: the relay of engine ${index} failed: ${String(error)}`),
    });
    this.#processes = new ProcessTable(config, this.#relay, shared);
  }

  /** Starts the VM and the relay; the host gets "ready" once both run. */
  async start(): Promise<void> {
    const vm = await createLuaVm();
    const lua = vm.lua;
    const config = this.#config;
    const sources = luaSources();
    lua.global.set("__threadbus", {
      host: this.#hostFunctions(vm),
      config: {
        instructionBudget: config.instructionBudget,
        timeSliceMs: config.timeSliceMs,
        ...config.allow,
      },
      sources,
    });
    this.#runtime = lua.doStringSync(
      `local boot = __threadbus; __threadbus = nil; return assert(load(boot.sources.runtime, "@runtime.lua", "t"))(boot)`,
    ) as Runtime;
    this.#vm = vm;
    await this.#relay.start(this.#bus, config.relayBufferSize);
    this.#send({ type: "ready", tid: osThreadId() });
    this.#scheduleTick();
    this.#statsTimer = setInterval(() => this.#periodicStats(), STATS_EVERY_MS);
    this.#statsTimer.unref();
  }

  #periodicStats(): void {
    const activity = this.#ticks + this.#relay.routed;
    if (activity === this.#lastStats || this.#closed) return;
    this.#lastStats = activity;
    this.#send({ type: "stats", totals: this.#totals(), processes: this.#processCounters() });
  }

  handle(message: HostMessage): void {
    if (this.#closed) return;
    switch (message.type) {
      case "spawn": {
        this.#processes.add(message.pid, message.name);
        this.#command(
          `S(${message.pid},${luaString(message.name)},${luaString(message.source)},${message.args})`,
        );
        for (const held of this.#awaitingStart.get(message.pid) ?? []) {
          this.#deliver(message.pid, held.from, held.topic, held.args);
        }
        this.#awaitingStart.delete(message.pid);
        break;
      }
      case "register":
        this.#scripts.set(message.id, message.source);
        break;
      case "kill": {
        const record = this.#processes.get(message.pid);
        if (record) this.#processes.end(record);
        this.#command(`K(${message.pid})`);
        break;
      }
      case "deliver":
        this.#deliver(message.pid, message.from, message.topic, message.args);
        break;
      case "settle":
        void this.#settle(message.id);
        break;
      case "close":
        void this.#close();
        break;
    }
  }

  #deliver(pid: number, from: number, topic: string, json: string): void {
    if (!this.#processes.has(pid)) {
      this.#messagesLost++;
      return;
    }
    const args = JSON.parse(json) as unknown[];
    const literal = args.length === 0 ? "{}" : luaLiteral(args);
    this.#command(`M(${pid},${from},${luaString(topic)},${literal},${args.length})`);
  }

  /** The functions the Lua runtime calls (H). They return strings/numbers and never throw into Lua. */
  #hostFunctions(vm: LuaVm): Record<string, (...args: never[]) => unknown> {
    const config = this.#config;
    const shared = this.#shared;
    const relay = this.#relay;
    const index = config.index;
    const processes = this.#processes;
    // Why a pid cannot take a message or a terminate: never handed out, or its process ended.
    const refusal = (pid: number, place: Place): string | undefined => {
      if (pid < 1 || pid > shared.allocatedPids) return `no process ${pid}`;
      return place.state === "ended" ? `process ${pid} has exited` : undefined;
    };
    const live = (pid: number) => processes.live(pid);
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
        const batch = record.take(config.batchSize, relay);
        if (batch === undefined) record.wantsWake = true;
        return batch;
      },
      retake: (pid: number): string => live(pid)?.retake(relay) ?? "",
      bad: (pid: number, at: number, reason: string): string =>
        live(pid)?.failed(at, reason, relay) ?? "0,nil",
      subscribe: (pid: number, system: string, kind: string, path: string): number | string => {
        const record = live(pid);
        if (!record) return "the process is not running";
        const problem =
          patternProblem(system, "system") ??
          patternProblem(kind, "kind") ??
          (path === "" ? null : globProblem(path));
        if (problem !== null) return problem;
        const filter = luaFilter(config.matching, system, kind);
        if (typeof filter === "string") return filter;
        const id = ++this.#nextSubscription;
        const indexId = `lua.${id}`;
        try {
          relay.add(indexId, filter.system, filter.kind, path, {
            process: record,
            subscription: id,
            accepts: filter.accepts,
          });
        } catch (error) {
          return error instanceof Error ? error.message : String(error);
        }
        record.subscriptions.set(id, { indexId, system: filter.system });
        shared.interest(index, filter.system, 1);
        return id;
      },
      unsubscribe: (pid: number, id: number): void => {
        const record = processes.get(pid);
        const subscription = record?.subscriptions.get(id);
        if (!record || subscription === undefined) return;
        record.subscriptions.delete(id);
        relay.remove(subscription.indexId);
        shared.interest(index, subscription.system, -1);
      },
      send: (pid: number, system: string, kind: string, path: string, json: string): string | undefined => {
        if (!live(pid)) return "the process is not running";
        const bus = this.#bus;
        if (bus.closed) return "the bus is closed";
        try {
          const data = json === "" ? undefined : JSON.parse(json);
          const event = data === undefined ? { system, kind, path } : { system, kind, path, data };
          return bus.send(event) ? undefined : "the bus refused the event (closed or full)";
        } catch (error) {
          return error instanceof Error ? error.message : String(error);
        }
      },
      // process.send to a process that is not running on this engine's Lua state (see the Lua
      // README, "Messages between processes"): never dropped without a word.
      post: (from: number, pid: number, topic: string, args: string): string | undefined => {
        const place = shared.place(pid);
        const refused = refusal(pid, place);
        if (refused !== undefined) return refused;
        if (place.state === "running" && place.engine === index) {
          // Its spawn is still on its way here: held until it starts, so it comes first.
          const held = this.#awaitingStart.get(pid);
          if (held) held.push({ from, topic, args });
          else this.#awaitingStart.set(pid, [{ from, topic, args }]);
          return undefined;
        }
        // Another engine's, or too old for the place table: the host routes it, and counts it in
        // messagesLost if the process has ended by then.
        this.#send({ type: "post", from, pid, topic, args });
        return undefined;
      },
      script: (id: string): string | undefined => this.#scripts.get(id),
      terminate: (pid: number): string | undefined => {
        const refused = refusal(pid, shared.place(pid));
        if (refused !== undefined) return refused;
        this.#send({ type: "terminate", pid });
        return undefined;
      },
      register: (parent: number, name: string): number => {
        if (this.#closed) return 0;
        const pid = shared.nextPid();
        shared.placed(pid, index);
        this.#processes.add(pid, name);
        this.#send({ type: "spawned", pid, name, parent });
        return pid;
      },
      exit: (pid: number, status: ExitStatus, message: string, payload: string): void => {
        const record = this.#processes.get(pid);
        if (record) this.#processes.end(record);
        shared.ended(pid);
        this.#send({ type: "exit", pid, status, message, payload });
        this.#statsDue = true;
      },
      print: (pid: number, line: string): void => {
        this.#send({ type: "print", pid, line });
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
      cancel: (pid: number, token: number): void => {
        const record = processes.get(pid);
        const timer = record?.timers.get(token);
        if (timer === undefined) return;
        clearTimeout(timer);
        record!.timers.delete(token);
      },
      // ms since the epoch with a fraction; the performance clock keeps differences monotonic.
      wall: (): number => performance.timeOrigin + performance.now(),
      cpu: (): number => threadCpuMs() ?? -1,
      // The memory limit holds only while a process runs: the scheduler's own allocations (outside
      // any protected call) must never fail, or Lua would abort the whole VM.
      enter: (pid: number): void => {
        vm.setMemoryMax(config.memoryLimitBytes);
        shared.resuming(index, pid);
      },
      leave: (): void => {
        vm.setMemoryMax(undefined);
        shared.busy(index);
      },
      lost: (count: number): void => {
        this.#messagesLost += count;
      },
    };
  }

  #onRouted(record: ProcessRecord): void {
    if (!record.wantsWake) return;
    record.wantsWake = false;
    this.#command(`W(${record.pid})`);
  }

  #onUnconvertible(record: ProcessRecord, reason: string): void {
    this.#unconvertible++;
    const now = Date.now();
    if (now - this.#lastWarning < WARN_EVERY_MS) return;
    this.#lastWarning = now;
    this.#log(
      "warn",
      `threadbus lua: process ${record.pid} (${record.name}) got an event whose data cannot become Lua (${reason}); ` +
        `it was delivered with data_error instead (${this.#unconvertible} such deliveries on engine ${this.#config.index} so far)`,
    );
  }

  #command(command: string): void {
    this.#commands.push(command);
    this.#scheduleTick();
  }

  #scheduleTick(): void {
    if (this.#tickScheduled || this.#closed || this.#runtime === null) return;
    this.#tickScheduled = true;
    // setImmediate, not a microtask: every event the relay routes meanwhile joins the same batch.
    setImmediate(this.#tick);
  }

  readonly #tick = (): void => {
    this.#tickScheduled = false;
    const runtime = this.#runtime;
    if (!runtime || this.#closed) return;
    const index = this.#config.index;
    let more = false;
    this.#shared.busy(index);
    try {
      more = runtime.run(MAX_RESUMES_PER_TICK) === 1;
    } catch (error) {
      // The scheduler itself failed (not a script: scripts fail inside their coroutines). Its
      // state cannot be trusted any more: let the thread die, and the host start a fresh engine.
      this.#emit([
        ...this.#outbox.splice(0),
        { type: "log", level: "error", message: `threadbus lua: scheduler fault on engine ${index}` },
      ]);
      throw error;
    } finally {
      this.#shared.idle(index);
    }
    this.#ticks++;
    if (more || this.#commands.length > 0) this.#scheduleTick();
  };

  /**
   * Answers once nothing is left to do for now: every event the bus delivered to this engine is
   * routed (or waits for room in a "block" queue) and every process waits (for events, messages
   * or a timer). `activity` lets the host see whether anything moved since its last round.
   */
  async #settle(id: number): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#closed) break;
      const routed = this.#relay.backlog === 0 || this.#relay.blocked;
      if (!this.#tickScheduled && this.#commands.length === 0 && routed) break;
    }
    this.#send({ type: "stats", totals: this.#totals(), processes: this.#processCounters() });
    this.#send({ type: "settled", id, activity: this.#ticks + this.#relay.routed });
  }

  #totals(): EngineCounters {
    return {
      routed: this.#relay.routed,
      ...this.#processes.totals(),
      messagesLost: this.#messagesLost,
      memoryBytes: this.#vm?.memoryUsed() ?? 0,
    };
  }

  #processCounters(): ProcessCounters[] {
    const buffered = new Map<number, number>();
    if (this.#runtime) {
      const pairs = this.#runtime.buffered().split(" ");
      for (let i = 0; i + 1 < pairs.length; i += 2) buffered.set(Number(pairs[i]), Number(pairs[i + 1]));
    }
    return this.#processes.counters(buffered);
  }

  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    for (const record of this.#processes.values()) this.#processes.stopTimers(record);
    await this.#relay.stop().catch(() => {});
    await this.#bus.stop().catch(() => {});
    this.#vm?.close();
    this.#vm = null;
    this.#runtime = null;
    this.#send({ type: "closed" });
  }

  #log(level: "warn" | "error", message: string): void {
    this.#send({ type: "log", level, message });
  }

  /** Queues a message for the host; everything queued in one turn goes in one post. */
  #send(message: EngineMessage): void {
    this.#outbox.push(message);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#statsDue) {
      // An exit: the host's totals must count what the process got before its `exited` settles.
      this.#statsDue = false;
      this.#outbox.push({ type: "stats", totals: this.#totals() });
    }
    const messages = this.#outbox;
    this.#outbox = [];
    this.#emit(messages);
  };
}
