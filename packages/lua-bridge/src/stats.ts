import type { EngineCounters, ProcessCounters } from "./protocol.js";

export interface LuaProcessStats {
  pid: number;
  name: string;
  engine: number;
  /** Events routed to the process and not yet handed to Lua (at most `queueSize`). */
  queued: number;
  /** Events handed to Lua and not yet received by the script (at most about one batch). */
  buffered: number;
  subscriptions: number;
  /** Events routed to the process. */
  delivered: number;
  /** Events its full queue dropped (`queueOverflow` "drop-oldest" or "drop-newest"). */
  dropped: number;
  /** Routed events dropped because their subscription was closed before the script took them. */
  discarded: number;
  /** Events it got with `data_error` instead of data that could not become Lua. */
  unconvertible: number;
}

export interface LuaEngineStats {
  engine: number;
  processes: number;
  /** Times the engine's thread was replaced (the watchdog terminated it, or it died). */
  restarts: number;
  /** Bytes used by the engine's Lua VM. */
  memoryBytes: number;
}

/**
 * Counters over the host's lifetime (gone processes and replaced engines included). They come
 * from the engine threads: a snapshot at most ~250 ms old, exact after `settled()` and, for the
 * totals, when an `exited` settles.
 */
export interface LuaHostStats {
  /** Live processes. */
  processes: number;
  /**
   * Events the engines' relays received from the bus. Each engine receives every event of a
   * WorkerBus; from an in-thread Bus only those whose system some subscription of its processes
   * may match (by the system's first segment).
   */
  routed: number;
  /** Deliveries into process queues (one event to three processes counts three). */
  delivered: number;
  /** Deliveries dropped by full process queues. */
  dropped: number;
  /** Deliveries dropped because the subscription closed (or the process ended) first. */
  discarded: number;
  /** Deliveries made with `data_error` instead of data that could not become Lua. */
  unconvertible: number;
  /** Events sent by processes that the bus refused after `events.send` returned (in-thread bus only). */
  sendRefused: number;
  /** process.send messages between engines whose target had ended. */
  messagesLost: number;
  /** Engine threads replaced so far. */
  restarts: number;
  /** Bytes used by the engines' Lua VMs. */
  memoryBytes: number;
  engines: LuaEngineStats[];
  perProcess: LuaProcessStats[];
}

/** What the book needs to know of a live process and of an engine when asked for stats. */
export interface ProcessView {
  readonly pid: number;
  readonly name: string;
  readonly engine: number;
}
export interface EngineView {
  readonly processes: number;
  readonly sendRefused: number;
}

const zero = (): EngineCounters => ({
  routed: 0,
  delivered: 0,
  dropped: 0,
  discarded: 0,
  unconvertible: 0,
  messagesLost: 0,
  memoryBytes: 0,
});

/**
 * The host's copy of its engines' counters: the latest totals and per-process snapshot each
 * engine sent, plus what replaced engines had counted (kept, so totals never go back).
 */
export class StatsBook {
  readonly #totals: EngineCounters[];
  readonly #snapshots: Map<number, ProcessCounters>[];
  readonly #restarts: number[];
  readonly #gone = zero();
  #goneSendRefused = 0;
  #messagesLost = 0;

  constructor(engines: number) {
    this.#totals = Array.from({ length: engines }, zero);
    this.#snapshots = Array.from({ length: engines }, () => new Map());
    this.#restarts = new Array(engines).fill(0);
  }

  /** An engine's "stats" message. */
  reported(engine: number, totals: EngineCounters, processes: ProcessCounters[] | undefined): void {
    this.#totals[engine] = totals;
    if (!processes) return;
    const snapshot = new Map<number, ProcessCounters>();
    for (const counters of processes) snapshot.set(counters.pid, counters);
    this.#snapshots[engine] = snapshot;
  }

  forget(engine: number, pid: number): void {
    this.#snapshots[engine]!.delete(pid);
  }

  /** A process.send between engines found its target gone. */
  messageLost(): void {
    this.#messagesLost++;
  }

  /** The engine's thread is gone: keep what it counted (but its memory), start again from zero. */
  replaced(engine: number, sendRefused: number, restarted: boolean): void {
    const totals = this.#totals[engine]!;
    for (const key of Object.keys(totals) as (keyof EngineCounters)[]) {
      if (key !== "memoryBytes") this.#gone[key] += totals[key];
    }
    this.#goneSendRefused += sendRefused;
    this.#totals[engine] = zero();
    this.#snapshots[engine] = new Map();
    if (restarted) this.#restarts[engine]!++;
  }

  build(processes: Iterable<ProcessView>, engines: readonly EngineView[]): LuaHostStats {
    const totals = { ...this.#gone };
    let sendRefused = this.#goneSendRefused;
    const perEngine: LuaEngineStats[] = engines.map((view, engine) => {
      const current = this.#totals[engine]!;
      for (const key of Object.keys(totals) as (keyof EngineCounters)[]) totals[key] += current[key];
      sendRefused += view.sendRefused;
      return {
        engine,
        processes: view.processes,
        restarts: this.#restarts[engine]!,
        memoryBytes: current.memoryBytes,
      };
    });
    const perProcess: LuaProcessStats[] = [];
    for (const { pid, name, engine } of processes) {
      const c = this.#snapshots[engine]!.get(pid);
      perProcess.push({
        pid,
        name,
        engine,
        queued: c?.queued ?? 0,
        buffered: c?.buffered ?? 0,
        subscriptions: c?.subscriptions ?? 0,
        delivered: c?.delivered ?? 0,
        dropped: c?.dropped ?? 0,
        discarded: c?.discarded ?? 0,
        unconvertible: c?.unconvertible ?? 0,
      });
    }
    return {
      processes: perProcess.length,
      routed: totals.routed,
      delivered: totals.delivered,
      dropped: totals.dropped,
      discarded: totals.discarded,
      unconvertible: totals.unconvertible,
      sendRefused,
      messagesLost: totals.messagesLost + this.#messagesLost,
      restarts: this.#restarts.reduce((a, b) => a + b, 0),
      memoryBytes: perEngine.reduce((sum, e) => sum + e.memoryBytes, 0),
      engines: perEngine,
      perProcess,
    };
  }
}
