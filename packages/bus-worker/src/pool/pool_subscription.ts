import {
  AbortError,
  BusClosedError,
  type BusEvent,
  type EventBus,
  type Subscription,
  TimeoutError,
} from "@threadbus/core";
import type { Piscina } from "piscina";
import { Fifo } from "./fifo.js";
import type { ResolvedPoolOptions } from "./options.js";
import { OutcomeQueue, type PoolOutcome } from "./outcome.js";

/**
 * Counters of a pool subscription. Every event taken from the bus ends in exactly one of
 * completed, failed, aborted or dropped, or is still queued or running:
 * `received === completed + failed + aborted + dropped + queued + running`.
 */
export interface PoolSubscriptionStats {
  /** Events taken from the bus subscription. */
  received: number;
  /** Tasks handed to the pool (`pool.run`). */
  submitted: number;
  /** Tasks that returned a result. */
  completed: number;
  /** Tasks that threw, or ran past `taskTimeoutMs`. */
  failed: number;
  /** Events cancelled by close(), the signal or bus.stop(): queued ones, and running ones past closeTimeoutMs. */
  aborted: number;
  /** Events dropped by the overflow policy ("drop-newest"/"drop-oldest"). */
  dropped: number;
  /** Events waiting in the subscription's buffer for a free worker. */
  queued: number;
  /** Tasks in the pool, not settled yet. */
  running: number;
}

interface RunningTask<D> {
  readonly event: BusEvent<D>;
  readonly controller: AbortController;
  timer: ReturnType<typeof setTimeout> | undefined;
  timedOut: boolean;
}

/**
 * How often a publisher-blocked subscription checks whether the bus was stopped. The EventBus
 * interface has no "ended" notification, and while blocked the subscription deliberately does not
 * read its bus iterator (that is the back-pressure), so it looks at `bus.closed` instead.
 */
const STOP_POLL_MS = 20;

/**
 * A bus subscription whose events run as tasks in a piscina pool. Create it with subscribePool().
 *
 * The subscription keeps its own FIFO buffer (`bufferSize`) in front of the pool and hands a task
 * to piscina only when a worker slot is free. piscina 5.3 neither enforces `maxQueue` nor keeps
 * FIFO order for tasks that carry an AbortSignal (measured: 8 abortable tasks into maxThreads 1,
 * maxQueue 2: none refused, completion order 0,1,3,5,7,4,2,6), and every task here carries one.
 */
export class PoolSubscription<D = unknown, R = unknown> implements AsyncIterable<PoolOutcome<D, R>> {
  readonly #bus: EventBus;
  readonly #subscription: Subscription<D>;
  readonly #pool: Piscina<BusEvent<D>, R>;
  readonly #options: ResolvedPoolOptions<D, R>;
  /** Tasks piscina can run at once: maxThreads x concurrentTasksPerWorker. */
  readonly #slots: number;
  readonly #buffer = new Fifo<BusEvent<D>>();
  readonly #running = new Set<RunningTask<D>>();
  readonly #outcomes: OutcomeQueue<D, R>;
  readonly #counts = { received: 0, submitted: 0, completed: 0, failed: 0, aborted: 0, dropped: 0 };
  #roomWaiter: (() => void) | null = null;
  #idleWaiter: (() => void) | null = null;
  #closing = false;
  #closeReason: unknown;
  #closePromise: Promise<void> | null = null;
  readonly #pumpDone: Promise<void>;
  readonly #onAbort = () => void this.close();

  /** @internal Use subscribePool(). */
  constructor(
    bus: EventBus,
    subscription: Subscription<D>,
    pool: Piscina<BusEvent<D>, R>,
    options: ResolvedPoolOptions<D, R>,
  ) {
    this.#bus = bus;
    this.#subscription = subscription;
    this.#pool = pool;
    this.#options = options;
    this.#slots = pool.maxThreads * pool.options.concurrentTasksPerWorker;
    this.#outcomes = new OutcomeQueue(
      () => this.#fill(),
      () => this.close(),
    );
    pool.on("error", (error: unknown) => options.logger.error(`threadbus: pool of ${this.id} failed`, error));
    this.#pumpDone = this.#pump();
    // The signal may have aborted while subscribePool awaited the bus.
    if (options.signal?.aborted) void this.close();
    else options.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** The id of the underlying bus subscription ("sub.7"). */
  get id(): string {
    return this.#subscription.id;
  }

  get system(): string {
    return this.#subscription.system;
  }

  get kind(): string {
    return this.#subscription.kind;
  }

  /** True from the moment close() starts (or the signal aborts, or the bus stops). */
  get closed(): boolean {
    return this.#closing;
  }

  /** The piscina instance, for inspection (utilization, histogram); do not run tasks on it. */
  get pool(): Piscina<BusEvent<D>, R> {
    return this.#pool;
  }

  stats(): PoolSubscriptionStats {
    return { ...this.#counts, queued: this.#buffer.length, running: this.#running.size };
  }

  /**
   * Stops taking events, aborts every queued one (each reported with an AbortError), waits up to
   * `closeTimeoutMs` for running tasks (then aborts them), destroys the pool and ends the outcome
   * iterator. Idempotent: every call returns the same promise, also after bus.stop() began it.
   */
  close(): Promise<void> {
    return this.#shutdown(new AbortError("pool subscription closed"));
  }

  /** The outcomes, in completion order; only when neither onResult nor onError was given. */
  [Symbol.asyncIterator](): AsyncIterator<PoolOutcome<D, R>> {
    if (!this.#options.iterate)
      throw new TypeError(`pool subscription ${this.id} reports through onResult/onError, not an iterator`);
    return this.#outcomes[Symbol.asyncIterator]();
  }

  async #pump(): Promise<void> {
    const iterator = this.#subscription[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        this.#counts.received++;
        if (this.#closing || this.#bus.closed) this.#abortQueued(next.value);
        else await this.#accept(next.value);
      }
    } catch (error) {
      this.#options.logger.error(
        `threadbus: bus subscription ${this.id} of a pool ended with an error`,
        error,
      );
      this.#closeReason ??= error;
    }
    // The bus ended the subscription (stop) unless close() did: shut down the same way.
    void this.#shutdown(new BusClosedError());
  }

  /** Places one event: straight into the pool, into the buffer, or through the overflow policy. */
  async #accept(event: BusEvent<D>): Promise<void> {
    if (this.#buffer.length < this.#options.bufferSize) {
      this.#buffer.push(event);
      this.#fill();
      return;
    }
    switch (this.#options.overflow) {
      case "drop-newest":
        this.#counts.dropped++;
        return;
      case "drop-oldest":
        this.#buffer.shift();
        this.#counts.dropped++;
        this.#buffer.push(event);
        return;
      case "block":
        // Not reading the bus iterator while we wait is the back-pressure: the bus subscription's
        // buffer fills and the dispatcher's own "block" holds the publishers.
        await this.#waitForRoom();
        if (this.#closing) this.#abortQueued(event);
        else {
          this.#buffer.push(event);
          this.#fill();
        }
    }
  }

  async #waitForRoom(): Promise<void> {
    const poll = setInterval(() => {
      if (this.#bus.closed || this.#subscription.closed) void this.#shutdown(new BusClosedError());
    }, STOP_POLL_MS);
    poll.unref?.();
    try {
      while (this.#buffer.length >= this.#options.bufferSize && !this.#closing) {
        await new Promise<void>((resolve) => {
          this.#roomWaiter = resolve;
        });
      }
    } finally {
      clearInterval(poll);
    }
  }

  #wakeRoom(): void {
    const waiter = this.#roomWaiter;
    this.#roomWaiter = null;
    waiter?.();
  }

  /** Hands buffered events to the pool while a worker slot is free (and the outcome reader keeps up). */
  #fill(): void {
    let started = false;
    while (!this.#closing && this.#buffer.length > 0 && this.#hasSlot()) {
      this.#start(this.#buffer.shift()!);
      started = true;
    }
    if (started) this.#wakeRoom();
  }

  #hasSlot(): boolean {
    const running = this.#running.size;
    if (running >= this.#slots) return false;
    // Unread outcomes count against the buffer, so a reader that stops reading stops the pool.
    return (
      !this.#options.iterate ||
      this.#outcomes.length + running < Math.max(this.#options.bufferSize, this.#slots)
    );
  }

  #start(event: BusEvent<D>): void {
    const task: RunningTask<D> = {
      event,
      controller: new AbortController(),
      timer: undefined,
      timedOut: false,
    };
    this.#running.add(task);
    this.#counts.submitted++;
    const timeoutMs = this.#options.taskTimeoutMs;
    if (timeoutMs !== undefined) {
      task.timer = setTimeout(() => {
        task.timedOut = true;
        task.controller.abort(new TimeoutError(`pool task ran longer than ${timeoutMs} ms`, timeoutMs));
      }, timeoutMs);
    }
    this.#pool.run(event, { signal: task.controller.signal }).then(
      (result) => this.#settle(task, { event, result }),
      (error: unknown) => this.#settle(task, { event, error: this.#taskError(task, error) }),
    );
  }

  #taskError(task: RunningTask<D>, error: unknown): unknown {
    const signal = task.controller.signal;
    // A task may throw undefined or null; the outcome still has to read as a failure.
    if (!signal.aborted) return error ?? new Error(`pool task threw ${String(error)}`);
    if (task.timedOut) return signal.reason;
    return new AbortError("pool task aborted while running", { cause: signal.reason });
  }

  #settle(task: RunningTask<D>, outcome: PoolOutcome<D, R>): void {
    if (task.timer !== undefined) clearTimeout(task.timer);
    this.#running.delete(task);
    if (outcome.error === undefined) this.#counts.completed++;
    else if (task.controller.signal.aborted && !task.timedOut) this.#counts.aborted++;
    else this.#counts.failed++;
    this.#report(outcome);
    if (this.#running.size === 0 && this.#idleWaiter !== null) {
      const waiter = this.#idleWaiter;
      this.#idleWaiter = null;
      waiter();
    }
    this.#fill();
  }

  #abortQueued(event: BusEvent<D>): void {
    this.#counts.aborted++;
    this.#report({
      event,
      error: new AbortError("pool subscription closed before the task ran", { cause: this.#closeReason }),
    });
  }

  #report(outcome: PoolOutcome<D, R>): void {
    const { onResult, onError, iterate, logger } = this.#options;
    if (iterate) {
      this.#outcomes.push(outcome);
      return;
    }
    try {
      if (outcome.error === undefined) onResult?.(outcome.event, outcome.result as R);
      else onError?.(outcome.event, outcome.error);
    } catch (error) {
      logger.error(`threadbus: a callback of pool subscription ${this.id} threw`, error);
    }
  }

  #shutdown(reason: unknown): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.#closing = true;
    this.#closeReason ??= reason;
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    this.#closePromise = this.#drain();
    return this.#closePromise;
  }

  async #drain(): Promise<void> {
    // The pump may hold one event while blocked: waking it lets it report that event as aborted.
    this.#wakeRoom();
    for (const event of this.#buffer.drain()) this.#abortQueued(event);
    try {
      await this.#subscription.close();
    } catch (error) {
      this.#options.logger.warn(`threadbus: closing bus subscription ${this.id} failed`, error);
    }
    // What the bus had buffered for us still comes through the iterator: each is reported aborted.
    await this.#pumpDone;
    await this.#awaitRunning();
    try {
      await this.#pool.destroy();
    } finally {
      this.#outcomes.end();
    }
  }

  /** Waits for running tasks up to closeTimeoutMs, then aborts the rest (piscina ends their workers). */
  async #awaitRunning(): Promise<void> {
    if (this.#running.size === 0) return;
    const idle = new Promise<void>((resolve) => {
      this.#idleWaiter = resolve;
    });
    const timeoutMs = this.#options.closeTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const expired = await Promise.race([idle.then(() => false), timedOut]);
    clearTimeout(timer);
    if (!expired) return;
    const reason = new TimeoutError(
      `running pool tasks did not finish within closeTimeoutMs (${timeoutMs} ms)`,
      timeoutMs,
    );
    for (const task of [...this.#running]) task.controller.abort(reason);
    await idle;
  }
}
