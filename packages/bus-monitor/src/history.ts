import type { BusStats, EventBus } from "@threadbus/core";

/** Columns of the rate history, oldest first (the layout uPlot draws from). */
export interface HistoryColumns {
  /** Sample times, seconds since the epoch. */
  t: number[];
  sentPerSecond: number[];
  deliveredPerSecond: number[];
  droppedPerSecond: number[];
  /** Events (or actions) queued for the dispatcher at the sample. */
  queued: number[];
}

export interface Rates {
  sentPerSecond: number;
  deliveredPerSecond: number;
  droppedPerSecond: number;
  refusedPerSecond: number;
}

/**
 * Samples `bus.stats()` on a timer into a bounded history. stats() reads counters only (shared
 * memory on the worker bus), so sampling costs the dispatcher nothing; the timer is unref'd and
 * stops with the monitor.
 */
export class History {
  readonly #columns: HistoryColumns = {
    t: [],
    sentPerSecond: [],
    deliveredPerSecond: [],
    droppedPerSecond: [],
    queued: [],
  };
  readonly #capacity: number;
  #previous: { at: number; stats: BusStats } | null = null;
  #rates: Rates = { sentPerSecond: 0, deliveredPerSecond: 0, droppedPerSecond: 0, refusedPerSecond: 0 };
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    readonly bus: EventBus,
    readonly intervalMs: number,
    historySeconds: number,
  ) {
    this.#capacity = Math.max(2, Math.ceil((historySeconds * 1000) / intervalMs));
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  /** The rates over the last sample interval. */
  get rates(): Rates {
    return this.#rates;
  }

  /** The last `seconds` of history (all of it if omitted). */
  columns(seconds?: number): HistoryColumns {
    const c = this.#columns;
    const from =
      seconds === undefined ? 0 : Math.max(0, c.t.length - Math.ceil((seconds * 1000) / this.intervalMs));
    return {
      t: c.t.slice(from),
      sentPerSecond: c.sentPerSecond.slice(from),
      deliveredPerSecond: c.deliveredPerSecond.slice(from),
      droppedPerSecond: c.droppedPerSecond.slice(from),
      queued: c.queued.slice(from),
    };
  }

  sample(): void {
    if (this.bus.closed && this.#previous !== null) return;
    const at = performance.now();
    const stats = this.bus.stats();
    const previous = this.#previous;
    this.#previous = { at, stats };
    if (previous === null) return;
    const seconds = Math.max(0.001, (at - previous.at) / 1000);
    const rate = (now: number, before: number) => Math.max(0, now - before) / seconds;
    this.#rates = {
      sentPerSecond: rate(stats.sent, previous.stats.sent),
      deliveredPerSecond: rate(stats.delivered, previous.stats.delivered),
      droppedPerSecond: rate(
        stats.dropped + stats.droppedOnStop + stats.aborted,
        previous.stats.dropped + previous.stats.droppedOnStop + previous.stats.aborted,
      ),
      refusedPerSecond: rate(stats.refused, previous.stats.refused),
    };
    const c = this.#columns;
    c.t.push(Math.round(Date.now() / 100) / 10);
    c.sentPerSecond.push(Math.round(this.#rates.sentPerSecond));
    c.deliveredPerSecond.push(Math.round(this.#rates.deliveredPerSecond));
    c.droppedPerSecond.push(Math.round(this.#rates.droppedPerSecond));
    c.queued.push(stats.queued);
    if (c.t.length > this.#capacity) for (const column of Object.values(c)) column.shift();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
