/**
 * Scenario m-entities: the messages between the main thread and its entity threads
 * (workers/entity_thread.ts), and the one rule both sides use to pick each event's entity.
 */

/** chat / message events, path user/<entity>, data the entity number (so a misroute is seen). */
export const ENTITY_SYSTEM = "chat";
export const ENTITY_KIND = "message";

/** The entity of event `seq`: pseudo-random (Knuth's multiplicative hash), the same on every thread. */
export function entityOf(seq: number, entities: number): number {
  return (Math.imul(seq + 1, 2654435761) >>> 0) % entities;
}

/** Events per BroadcastChannel message in the peer, and how far publishers run ahead of the slowest subscriber. */
export const BROADCAST_BATCH = 64;
export const BROADCAST_WINDOW_BATCHES = 128;

export type EntityRequest =
  /** Subscriber, threadbus (attached first): one subscription per entity in [first, first + count). */
  | { type: "bus-subscribe"; first: number; count: number }
  /** Subscriber, peer: a Map<path, handler> for [first, first + count) and one BroadcastChannel. */
  | {
      type: "broadcast-subscribe";
      name: string;
      first: number;
      count: number;
      subscribers: number;
      index: number;
    }
  /** Any thread, threadbus: attach. */
  | { type: "bus-attach"; handle: unknown }
  /** Publisher, peer: open the channel. */
  | { type: "broadcast-attach"; name: string; subscribers: number }
  /** Publisher: send events [from, from + count) to entity entityOf(seq, entities). */
  | { type: "run"; from: number; count: number; entities: number }
  /** Subscriber: answer once this thread received `total` events in all, with its per-entity counts. */
  | { type: "until"; total: number }
  /** Subscriber, threadbus: subscribe + close `count` fresh subscriptions, in batches and one by one; answers the rates. */
  | { type: "churn"; count: number }
  /** Close subscriptions / detach. */
  | { type: "detach" };

export interface EntityReply {
  id: number;
  error?: string;
  /** until: events per entity of this thread, and events whose entity or path was wrong. */
  counts?: Int32Array;
  misrouted?: number;
  /** churn: subscribe + close per second, batched (Promise.all) and sequential. */
  batchedPerSecond?: number;
  sequentialPerSecond?: number;
}

export interface EntityEnvelope {
  id: number;
  request: EntityRequest;
}
