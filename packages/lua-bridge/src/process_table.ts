import { ProcessRecord } from "./process_record.js";
import type { EngineConfig, ProcessCounters } from "./protocol.js";
import type { Relay } from "./relay.js";
import type { SharedState } from "./shared_state.js";

/** Counters summed over an engine's processes, gone ones included. */
export interface ProcessTotals {
  delivered: number;
  dropped: number;
  discarded: number;
  unconvertible: number;
}

/**
 * An engine's process records by pid, and the counters of those that ended. Ending a record takes
 * its subscriptions out of the relay and the shared interest table, and stops its timers, at once.
 */
export class ProcessTable {
  readonly #records = new Map<number, ProcessRecord>();
  readonly #gone: ProcessTotals = { delivered: 0, dropped: 0, discarded: 0, unconvertible: 0 };
  readonly #config: EngineConfig;
  readonly #relay: Relay;
  readonly #shared: SharedState;

  constructor(config: EngineConfig, relay: Relay, shared: SharedState) {
    this.#config = config;
    this.#relay = relay;
    this.#shared = shared;
  }

  add(pid: number, name: string): ProcessRecord {
    const record = new ProcessRecord(pid, name, this.#config.queueSize, this.#config.queueOverflow);
    this.#records.set(pid, record);
    return record;
  }

  get(pid: number): ProcessRecord | undefined {
    return this.#records.get(pid);
  }

  /** The record of a process that has not ended. */
  live(pid: number): ProcessRecord | undefined {
    const record = this.#records.get(pid);
    return record && !record.ended ? record : undefined;
  }

  has(pid: number): boolean {
    return this.#records.has(pid);
  }

  /** Ends a process on the JS side: subscriptions, timers and queue go at once. */
  end(record: ProcessRecord): void {
    if (record.ended) return;
    record.ended = true;
    for (const { indexId, system } of record.subscriptions.values()) {
      this.#relay.remove(indexId);
      this.#shared.interest(this.#config.index, system, -1);
    }
    record.subscriptions.clear();
    this.stopTimers(record);
    record.discarded += record.clear();
    this.#records.delete(record.pid);
    this.#gone.delivered += record.delivered;
    this.#gone.dropped += record.dropped;
    this.#gone.discarded += record.discarded;
    this.#gone.unconvertible += record.unconvertible;
  }

  stopTimers(record: ProcessRecord): void {
    for (const timer of record.timers.values()) clearTimeout(timer);
    record.timers.clear();
  }

  values(): IterableIterator<ProcessRecord> {
    return this.#records.values();
  }

  totals(): ProcessTotals {
    const totals = { ...this.#gone };
    for (const record of this.#records.values()) {
      totals.delivered += record.delivered;
      totals.dropped += record.dropped;
      totals.discarded += record.discarded;
      totals.unconvertible += record.unconvertible;
    }
    return totals;
  }

  /** Per-process counters; `buffered` says how many events each holds in its Lua channels. */
  counters(buffered: ReadonlyMap<number, number>): ProcessCounters[] {
    const out: ProcessCounters[] = [];
    for (const record of this.#records.values()) {
      out.push({
        pid: record.pid,
        queued: record.queued,
        buffered: buffered.get(record.pid) ?? 0,
        subscriptions: record.subscriptions.size,
        delivered: record.delivered,
        dropped: record.dropped,
        discarded: record.discarded,
        unconvertible: record.unconvertible,
      });
    }
    return out;
  }
}
