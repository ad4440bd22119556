/**
 * When the dispatcher should spin on an empty ring and when it should sleep.
 *
 * A spin notices a new record in ~0.5 µs; a sleep costs the dispatcher a futex wake (~5-10 µs of
 * CPU and ~30 µs of latency on 2 cores) and costs the publisher that wakes it a notify (~3 µs).
 * Spinning pays only while records arrive closer together than that: at 10k events/s (100 µs
 * apart) a dispatcher that spun 0.1 ms after each burst never slept and used ~96% of a core. So
 * it tracks the gap between busy passes (an exponential average) and spins only while that gap
 * is short, for about twice the gap; otherwise it sleeps at once.
 */
export class IdlePolicy {
  /** Gaps above this (ms) make a sleep cheaper than a spin. */
  static readonly SPIN_GAP_MS = 0.025;
  /** The longest spin (ms). */
  static readonly MAX_SPIN_MS = 0.1;
  #gap = 1;
  #lastBusy = -1;

  /** A pass read records at `now`. */
  busy(now: number): void {
    if (this.#lastBusy >= 0) this.#gap += (now - this.#lastBusy - this.#gap) / 8;
    this.#lastBusy = now;
  }

  /** How long (ms) to spin on an empty ring before sleeping. */
  spinMs(): number {
    return this.#gap < IdlePolicy.SPIN_GAP_MS ? Math.min(IdlePolicy.MAX_SPIN_MS, 2 * this.#gap) : 0;
  }

  /** The average gap between busy passes (ms), for inspection. */
  get gapMs(): number {
    return this.#gap;
  }
}
