import type { BusStats, OverflowPolicy } from "./types.js";

/**
 * The inspection contract: what `inspect()` returns on both buses (the in-thread `Bus` and the
 * `WorkerBus`), so a debug page or a test reads one shape. Everything is a snapshot taken by the
 * dispatcher (or, on the worker bus, assembled from the dispatcher's snapshot and the shared
 * counters); nothing here changes the bus. Inspecting is meant for dashboards (about once a
 * second), never for a hot path: it copies every subscription.
 */

/** One live subscription. */
export interface SubscriptionInspection {
  /** `sub.N`. */
  id: string;
  /** The system and kind patterns as given to subscribe (kind "" means every kind). */
  system: string;
  kind: string;
  /** The path glob given to subscribe, or null. */
  path: string | null;
  overflow: OverflowPolicy;
  bufferSize: number;
  /** Events waiting for the subscriber now (at most bufferSize under "block" and "drop-newest"). */
  buffered: number;
  /** Events placed in the subscription's buffer (or posted to its thread) so far. */
  delivered: number;
  /** Events its overflow policy dropped, or that an aborted send skipped. */
  dropped: number;
  /** The thread (client) the subscription lives on: 0 is the thread that started the bus. */
  client: number;
}

/** One thread (client) of the bus: the in-thread Bus has only client 0. */
export interface ClientInspection {
  client: number;
  /** Live subscriptions on this thread. */
  subscriptions: number;
  /** Events this thread's send() accepted. */
  sent: number;
  /** Events this thread's send() refused (full, aborted, or the bus had failed). */
  refused: number;
}

/** The subscription index's (system, kind) result cache. */
export interface MatchCacheInspection {
  /** Lookups answered from the cache / computed by walking the index, since the bus started. */
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 before the first lookup. */
  hitRate: number;
  /** Cached (system, kind) results now, and the most it keeps. */
  entries: number;
  capacity: number;
}

/** What stands between publishers and the dispatcher: the shared ring, or the action queue. */
export interface QueueInspection {
  /** "bytes" for the WorkerBus ring, "actions" for the in-thread Bus's queue. */
  unit: "bytes" | "actions";
  capacity: number;
  used: number;
  /** used / capacity, from 0 to 1. */
  occupancy: number;
}

export interface BusInspection {
  /** Which bus answered. */
  bus: "Bus" | "WorkerBus";
  /** Milliseconds since the bus (its dispatcher) started. */
  uptimeMs: number;
  /** The same totals as `bus.stats()`, taken with this snapshot. */
  stats: BusStats;
  subscriptions: SubscriptionInspection[];
  clients: ClientInspection[];
  queue: QueueInspection;
  /** Sends the dispatcher has taken and routed so far. */
  eventsRead: number;
  /** Sends routed per second, since start and over the interval since the previous inspect(). */
  eventsPerSecond: { sinceStart: number; recent: number };
  /** Up to five subscriptions with the most events waiting on them (by fill ratio), most first. */
  slowest: SubscriptionInspection[];
  /** The id of the "block" subscription the dispatcher is waiting on now, if any. */
  blockedOn: string | null;
  /** Subscriptions removed because their thread died (always 0 in-thread). */
  lostSubscribers: number;
  /** CPU time the dispatcher's thread has used, in ms; null where unknown or shared with the caller. */
  dispatcherCpuMs: number | null;
  matchCache: MatchCacheInspection;
  /**
   * Mean subscriptions whose system and kind patterns matched each routed event (before path
   * filters): how far one send fans out.
   */
  fanOut: number;
}

/** A bus that can be inspected: both `Bus` (synchronously) and `WorkerBus` (over its admin port). */
export interface InspectableBus {
  inspect(): BusInspection | Promise<BusInspection>;
}

/** The `slowest` list: subscriptions with events waiting, fullest buffer first, at most five. */
export function slowestSubscriptions<S extends SubscriptionInspection>(subscriptions: readonly S[]): S[] {
  return subscriptions
    .filter((s) => s.buffered > 0)
    .sort((a, b) => b.buffered / b.bufferSize - a.buffered / a.bufferSize)
    .slice(0, 5);
}

/** The match cache's figures from an index's counters. */
export function matchCacheInspection(counters: {
  hits: number;
  misses: number;
  entries: number;
  capacity: number;
}): MatchCacheInspection {
  const lookups = counters.hits + counters.misses;
  return { ...counters, hitRate: lookups === 0 ? 0 : counters.hits / lookups };
}
