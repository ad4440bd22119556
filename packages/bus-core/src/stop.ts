/**
 * The in-thread bus's stop, from the stop() call to the dispatcher's end.
 *
 * Stop is an action in the queue like any other (GUARANTEES.md rules 9 and 10): what was
 * accepted before it is delivered first. Only a "block" subscriber that never reads can hold that
 * up, so the stop carries a deadline: when it passes, `onExpire` tells the bus to finish the event
 * in delivery without waiting and to drop (and count) the sends still queued before Stop. The
 * promise resolves when the dispatcher has applied Stop and drained what came after it.
 */
export class StopSequence {
  readonly promise: Promise<void>;
  #resolve!: () => void;
  readonly #onExpire: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** performance.now() at which the deadline passes (monotonic, unlike Date.now()). */
  #deadline = Number.POSITIVE_INFINITY;
  #expired = false;
  #finished = false;

  constructor(timeoutMs: number, onExpire: () => void) {
    this.promise = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#onExpire = onExpire;
    this.shorten(timeoutMs);
  }

  /** True once the deadline passed before the dispatcher finished. */
  get expired(): boolean {
    return this.#expired;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Brings the deadline forward to `timeoutMs` from now, if that is sooner; never pushes it back. */
  shorten(timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    if (this.#finished || this.#expired || deadline >= this.#deadline) return;
    this.#deadline = deadline;
    clearTimeout(this.#timer);
    // Not unref'd: a process awaiting stop() should see it resolve, not exit half-stopped.
    this.#timer = setTimeout(() => this.#expire(), timeoutMs);
  }

  /** The dispatcher has applied Stop and drained the queue. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timer);
    this.#resolve();
  }

  #expire(): void {
    if (this.#finished || this.#expired) return;
    this.#expired = true;
    this.#onExpire();
  }
}
