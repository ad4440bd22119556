import { type BusInspection, matchCacheInspection, type SubscriptionInspection } from "@threadbus/core";
import type { Dispatcher } from "./dispatcher.js";
import { threadCpuMs } from "./thread_cpu.js";

/**
 * One subscription as `bus.inspect()` shows it: the shared SubscriptionInspection shape, where
 * `buffered` counts events delivered to the subscriber's ring (or held back for it by
 * drop-oldest) that its consumer has not taken yet.
 */
export type SubscriptionInfo = SubscriptionInspection;

/** What `WorkerBus.inspect()` returns: the shape both buses share, plus the ring in bytes. */
export interface InspectResult extends BusInspection {
  subscriptions: SubscriptionInfo[];
  ring: { capacity: number; usedBytes: number; occupancy: number };
  /** Sends read by the dispatcher per second, since start and over the last inspect interval. */
  eventsPerSecond: { sinceStart: number; recent: number };
  eventsRead: number;
  /** Up to five subscriptions with the most events waiting on them, most first. */
  slowest: SubscriptionInfo[];
  /** The id of the subscription the dispatcher is blocked on, if any. */
  blockedOn: string | null;
  /** Subscriptions removed because their port closed (their thread died). */
  lostSubscribers: number;
  /** CPU time the dispatcher thread has used since it started, in ms (null where the platform does not say). */
  dispatcherCpuMs: number | null;
}

/**
 * The dispatcher's part of an inspection; WorkerBus.inspect() adds what the starting thread reads
 * from shared memory (stats, per-thread counters).
 */
export type DispatcherInspection = Omit<InspectResult, "stats" | "clients">;

/** The object the dispatcher exposes over comlink on its admin port. */
export class AdminApi {
  #lastRead = 0;
  #lastAt = performance.now();

  constructor(readonly dispatcher: Dispatcher) {}

  inspect(): DispatcherInspection {
    const d = this.dispatcher;
    const subscriptions = d.subscriptions().map(
      (state): SubscriptionInfo => ({
        path: d.index.get(state.id)?.path?.source ?? null,
        id: state.id,
        system: state.system,
        kind: state.kind,
        overflow: state.overflow,
        bufferSize: state.bufferSize,
        buffered: state.pending,
        delivered: state.delivered,
        dropped: state.dropped,
        client: state.client,
      }),
    );
    const now = performance.now();
    const read = d.eventsRead;
    const recent = ((read - this.#lastRead) * 1000) / Math.max(1, now - this.#lastAt);
    this.#lastRead = read;
    this.#lastAt = now;
    const used = d.ring.used;
    // The dispatcher answers most sends from its own cache by interned name ids, in front of the
    // index's cache: a routed send is a hit unless the index had to walk its trie for it.
    const misses = Math.min(read, d.index.lookups.misses);
    const lookups = d.index.lookups;
    return {
      bus: "WorkerBus",
      uptimeMs: d.uptimeMs,
      queue: { unit: "bytes", capacity: d.ring.capacity, used, occupancy: used / d.ring.capacity },
      matchCache: matchCacheInspection({
        hits: read - misses,
        misses,
        entries: lookups.cacheEntries,
        capacity: lookups.cacheSize,
      }),
      fanOut: read === 0 ? 0 : d.matchedEntries / read,
      subscriptions,
      ring: { capacity: d.ring.capacity, usedBytes: used, occupancy: used / d.ring.capacity },
      eventsPerSecond: { sinceStart: (read * 1000) / Math.max(1, d.uptimeMs), recent },
      eventsRead: read,
      slowest: [...subscriptions]
        .filter((s) => s.buffered > 0)
        .sort((a, b) => b.buffered / b.bufferSize - a.buffered / a.bufferSize)
        .slice(0, 5),
      blockedOn: d.blockedOn,
      lostSubscribers: d.lostSubscribers,
      dispatcherCpuMs: threadCpuMs(),
    };
  }
}
