import { EngineState, type SharedState, sharedNow } from "./shared_state.js";

export interface Stuck {
  engine: number;
  /** The process being resumed, or 0 when the engine was busy outside any (routing events). */
  pid: number;
  busyMs: number;
}

/** One busy stretch of an engine as the watchdog first saw it. */
interface Stretch {
  since: number;
  /** The engine thread's CPU time (ms) when the watchdog first saw the stretch, if known. */
  cpu: number | null;
}

/**
 * Watches the engines from the host's thread: an engine that stays busy longer than `limitMs`
 * without reaching the end of a resume (or of a stretch of routing) is stuck where no Lua hook
 * runs (C code: a backtracking string pattern, a huge allocation) and is reported, to be
 * terminated. `worker.terminate()` stops a thread stuck in wasmoon's C string library in ~6 ms.
 *
 * Checks run four times per limit. Where the OS tells a thread's CPU time (Linux), an engine is
 * stuck only if its thread also used at least half the limit in CPU since the watchdog first saw
 * the stretch: a thread the OS did not let run (a loaded machine) is late, not stuck. Unloaded,
 * the reaction is about limitMs + limitMs / 4.
 */
export class Watchdog {
  readonly #shared: SharedState;
  readonly #limitMs: number;
  readonly #cpuOf: (engine: number) => number | null;
  readonly #onStuck: (stuck: Stuck) => void;
  readonly #stretches: (Stretch | null)[];
  #timer: NodeJS.Timeout | null = null;

  constructor(
    shared: SharedState,
    engines: number,
    limitMs: number,
    cpuOf: (engine: number) => number | null,
    onStuck: (stuck: Stuck) => void,
  ) {
    this.#shared = shared;
    this.#limitMs = limitMs;
    this.#cpuOf = cpuOf;
    this.#onStuck = onStuck;
    this.#stretches = new Array(engines).fill(null);
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.check(), Math.max(5, Math.floor(this.#limitMs / 4)));
    // The watchdog alone must not keep the process alive.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  check(): void {
    const now = sharedNow();
    for (let engine = 0; engine < this.#stretches.length; engine++) {
      const { state, pid, since } = this.#shared.read(engine);
      if (state === EngineState.idle) {
        this.#stretches[engine] = null;
        continue;
      }
      let stretch = this.#stretches[engine];
      if (!stretch || stretch.since !== since) {
        stretch = { since, cpu: this.#cpuOf(engine) };
        this.#stretches[engine] = stretch;
      }
      const busyMs = now - since;
      if (busyMs <= this.#limitMs) continue;
      if (stretch.cpu !== null) {
        const cpu = this.#cpuOf(engine);
        if (cpu !== null && cpu - stretch.cpu < this.#limitMs / 2) continue;
      }
      this.#stretches[engine] = null;
      this.#onStuck({ engine, pid: state === EngineState.resuming ? pid : 0, busyMs });
    }
  }
}
