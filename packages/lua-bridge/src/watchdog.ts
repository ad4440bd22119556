import { EngineState, type SharedState, sharedNow } from "./shared_state.js";

export interface Stuck {
  engine: number;
  /** The process being resumed, or 0 when the engine was busy outside any (routing events). */
  pid: number;
  busyMs: number;
}

/**
 * Watches the engines from the host's thread: an engine that stays busy longer than `limitMs`
 * without reaching the end of a resume (or of a stretch of routing) is stuck where no Lua hook
 * runs (C code: a backtracking string pattern, a huge allocation) and is reported, to be
 * terminated. `worker.terminate()` stops a thread stuck in wasmoon's C string library in ~6 ms,
 * so checking four times per limit bounds the reaction to about 1.25 x limitMs.
 */
export class Watchdog {
  readonly #shared: SharedState;
  readonly #engines: number;
  readonly #limitMs: number;
  readonly #onStuck: (stuck: Stuck) => void;
  #timer: NodeJS.Timeout | null = null;

  constructor(shared: SharedState, engines: number, limitMs: number, onStuck: (stuck: Stuck) => void) {
    this.#shared = shared;
    this.#engines = engines;
    this.#limitMs = limitMs;
    this.#onStuck = onStuck;
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
    for (let engine = 0; engine < this.#engines; engine++) {
      const { state, pid, since } = this.#shared.read(engine);
      if (state === EngineState.idle) continue;
      const busyMs = now - since;
      if (busyMs > this.#limitMs)
        this.#onStuck({ engine, pid: state === EngineState.resuming ? pid : 0, busyMs });
    }
  }
}
