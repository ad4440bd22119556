import {
  type BusInspection,
  type ClientInspection,
  compilePathFilter,
  SubscriptionIndex,
  type SubscriptionInspection,
} from "@threadbus/core";
import { z } from "zod";
import type { History } from "./history.js";
import { choiceParam, integerParam, parseQuery, QueryError, textParam } from "./query.js";
import type { Snapshots } from "./snapshot.js";
import type { Tails } from "./tail.js";

/** What the JSON endpoints read from. */
export interface EndpointContext {
  snapshots: Snapshots;
  history: History;
  tails: Tails;
  showData: boolean;
}

/** A subscription as /subsz lists it: the inspection plus what the page highlights. */
export interface SubscriptionRow extends SubscriptionInspection {
  /** Events waiting (the inspection's `buffered`), the sort key "pending". */
  pending: number;
  /** pending / bufferSize. */
  fill: number;
  /** The dispatcher is waiting on this subscription now. */
  blocked: boolean;
  /**
   * The fullest subscription (the monitor's tails aside), when it is at least half full: below that
   * a buffer is absorbing a burst, as buffers are for, and marking it would flag every busy one.
   */
  slowest: boolean;
  /** This monitor's own live-tail subscription. */
  monitorTail: boolean;
}

const PAGE_MAX = 1000;

const subszQuery = z.object({
  offset: integerParam(0, 1_000_000),
  limit: integerParam(100, PAGE_MAX),
  sort: choiceParam(["pending", "delivered", "dropped", "fill", "id"], "pending"),
  order: choiceParam(["desc", "asc"], "desc"),
});

const connzQuery = z.object({
  offset: integerParam(0, 1_000_000),
  limit: integerParam(100, PAGE_MAX),
  sort: choiceParam(["subscriptions", "sent", "refused", "client"], "subscriptions"),
  order: choiceParam(["desc", "asc"], "desc"),
});

const matchQuery = z.object({
  system: textParam("an event's system").min(1, "is required: the system of the event to test"),
  kind: textParam("an event's kind").min(1, "is required: the kind of the event to test"),
  path: textParam("an event's path").optional(),
});

const historyQuery = z.object({
  seconds: integerParam(600, 86_400),
});

const noQuery = z.object({});

/** /varz: totals, rates over the last sample interval, queue, uptime, cache hit rate, fan-out. */
export async function varz(context: EndpointContext, query: URLSearchParams): Promise<object> {
  parseQuery(query, noQuery);
  const inspection = await context.snapshots.get();
  return {
    bus: inspection.bus,
    now: Date.now(),
    uptimeMs: Math.round(inspection.uptimeMs),
    stats: inspection.stats,
    rates: context.history.rates,
    queue: inspection.queue,
    eventsRead: inspection.eventsRead,
    subscriptions: inspection.subscriptions.length,
    clients: inspection.clients.length,
    blockedOn: inspection.blockedOn,
    slowest: inspection.slowest.map((s) => ({ id: s.id, buffered: s.buffered, bufferSize: s.bufferSize })),
    lostSubscribers: inspection.lostSubscribers,
    dispatcherCpuMs: inspection.dispatcherCpuMs,
    matchCache: inspection.matchCache,
    fanOut: inspection.fanOut,
    monitor: {
      showData: context.showData,
      tails: context.tails.streaming,
      tailCounters: context.tails.totals(),
      sampleIntervalMs: context.history.intervalMs,
    },
  };
}

function sortAndPage<T>(
  rows: T[],
  key: (row: T) => number | string,
  order: "asc" | "desc",
  offset: number,
  limit: number,
): T[] {
  const direction = order === "asc" ? 1 : -1;
  rows.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return (x < y ? -1 : x > y ? 1 : 0) * direction;
  });
  return rows.slice(offset, offset + limit);
}

/** Numeric order of `sub.N` ids. */
function idNumber(id: string): number {
  return Number(id.slice(id.indexOf(".") + 1)) || 0;
}

/** /subsz: subscriptions, paged and sorted by pending, delivered, dropped, fill or id. */
export async function subsz(context: EndpointContext, query: URLSearchParams): Promise<object> {
  const q = parseQuery(query, subszQuery);
  const inspection = await context.snapshots.get();
  const tailIds = context.tails.ids();
  // The monitor's own tail is full by design (it samples): it is never the one to point at.
  const fullest = inspection.slowest.find((s) => !tailIds.has(s.id));
  const slowestId = fullest !== undefined && fullest.buffered >= fullest.bufferSize / 2 ? fullest.id : null;
  const rows = inspection.subscriptions.map(
    (s): SubscriptionRow => ({
      ...s,
      pending: s.buffered,
      fill: s.bufferSize > 0 ? s.buffered / s.bufferSize : 0,
      blocked: s.id === inspection.blockedOn,
      slowest: s.id === slowestId,
      monitorTail: tailIds.has(s.id),
    }),
  );
  const key = (row: SubscriptionRow) => (q.sort === "id" ? idNumber(row.id) : row[q.sort]);
  return {
    total: rows.length,
    offset: q.offset,
    limit: q.limit,
    sort: q.sort,
    order: q.order,
    blockedOn: inspection.blockedOn,
    subscriptions: sortAndPage(rows, key, q.order, q.offset, q.limit),
  };
}

/** /connz: the bus's threads (clients) with their subscription counts and sends, paged and sorted. */
export async function connz(context: EndpointContext, query: URLSearchParams): Promise<object> {
  const q = parseQuery(query, connzQuery);
  const inspection = await context.snapshots.get();
  const rows = [...inspection.clients];
  return {
    total: rows.length,
    offset: q.offset,
    limit: q.limit,
    sort: q.sort,
    order: q.order,
    clients: sortAndPage(rows, (row: ClientInspection) => row[q.sort], q.order, q.offset, q.limit),
  };
}

/** The index built from one snapshot's subscriptions, reused while that snapshot is. */
const indexes = new WeakMap<BusInspection, SubscriptionIndex<SubscriptionInspection>>();

function indexOf(inspection: BusInspection): SubscriptionIndex<SubscriptionInspection> {
  let index = indexes.get(inspection);
  if (index === undefined) {
    index = new SubscriptionIndex<SubscriptionInspection>({ cacheSize: 0 });
    for (const s of inspection.subscriptions) index.add(s.id, s.system, s.kind, s, s.path ?? undefined);
    indexes.set(inspection, index);
  }
  return index;
}

/**
 * /match?system=&kind=[&path=]: which subscriptions would receive such an event. Answered by
 * core's SubscriptionIndex (the one matcher every bus uses) built from the live subscriptions'
 * patterns of the current snapshot, so it never touches the running bus's index or its cache.
 * Without `path`, subscriptions with a path glob are listed with `pathMatches: null`.
 */
export async function match(context: EndpointContext, query: URLSearchParams): Promise<object> {
  const q = parseQuery(query, matchQuery);
  const inspection = await context.snapshots.get();
  const matches = indexOf(inspection)
    .match(q.system, q.kind)
    .map((entry) => {
      const s = entry.value;
      let pathMatches: boolean | null = null;
      if (s.path === null) pathMatches = true;
      else if (q.path !== undefined) pathMatches = (entry.path ?? compilePathFilter(s.path)).match(q.path);
      return { id: s.id, system: s.system, kind: s.kind, path: s.path, client: s.client, pathMatches };
    })
    .filter((m) => m.pathMatches !== false);
  return {
    event: { system: q.system, kind: q.kind, path: q.path ?? null },
    count: matches.length,
    matches,
  };
}

/** /history?seconds=: the sampled rates, as columns for the charts. */
export function history(context: EndpointContext, query: URLSearchParams): object {
  const q = parseQuery(query, historyQuery);
  return { intervalMs: context.history.intervalMs, ...context.history.columns(q.seconds) };
}

/** Exposed for the tail route: its own parameters, validated like the others. */
export const tailQuery = z.object({
  system: textParam("a system pattern").min(1, "must be a non-empty system pattern").optional(),
  kind: textParam("a kind pattern").optional(),
  path: textParam("a path glob").min(1, "must be a non-empty path glob").optional(),
});

export { QueryError };
