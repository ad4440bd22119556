import type { MessagePort } from "node:worker_threads";
import type { BusEvent } from "@threadbus/core";

/**
 * The event of scenario j-scale: publisher index and per-publisher sequence, so every subscriber
 * can check that each publisher's events arrive once and in order (the bus promises it; the
 * hand-written fan-out gets it from per-port ordering).
 */
export interface ScaleData {
  p: number;
  seq: number;
  body: string;
}

export function scaleEvent(p: number, seq: number, body: string): BusEvent<ScaleData> {
  return { system: "orders", kind: "created", path: "o/1", data: { p, seq, body } };
}

/** Events per hand-made batch, as in the other postMessage peers. */
export const FANOUT_BATCH = 64;

/** What a subscriber of the BroadcastChannel peer posts on the ack channel: its count of publisher p's events. */
export interface BroadcastAck {
  p: number;
  s: number;
  count: number;
}

/** A subscriber of the hand-written fan-out tells each publisher its count every this many events. */
export const FANOUT_ACK_EVERY = 1024;

/** Messages from the main thread to a j-scale worker (both roles); each is answered (see ScaleReply). */
export type ScaleRequest =
  /** Attach to the WorkerBus behind `handle` (a subscriber also subscribes to orders.created). */
  | { type: "attach"; handle: unknown; catalogued: boolean }
  /** Hand-written fan-out: a publisher gets one port per subscriber, a subscriber one per publisher. */
  | { type: "connect"; ports: MessagePort[] }
  /**
   * The BroadcastChannel peer: publishers post batches on channel `name`, which every thread with
   * a channel of that name receives (and decodes); subscribers acknowledge on `name:ack`.
   */
  | { type: "broadcast"; name: string; subscribers: number; subscriber: number }
  /** Publisher: send `count` more events (sequence numbers go on from the last run). */
  | { type: "run"; count: number; body: string }
  /** Subscriber: answer once `total` events arrived since it started (cumulative over runs). */
  | { type: "until"; total: number }
  /** Detach from the bus (AttachedBus.stop()), so teardown takes the ordinary path. */
  | { type: "detach" };

/** A request as posted: `id` pairs it with its reply. */
export interface ScaleEnvelope {
  id: number;
  request: ScaleRequest;
}

/** The answer to request `id`: done, or `error` (a broken order fails the subscriber's "until"). */
export interface ScaleReply {
  id: number;
  error?: string;
}

/** Runs each request with `handle` and posts its reply: the worker side of the protocol. */
export function serveScaleRequests(
  port: {
    on(event: "message", listener: (message: ScaleEnvelope) => void): unknown;
    postMessage(reply: ScaleReply): void;
  },
  handle: (request: ScaleRequest) => Promise<void>,
): void {
  port.on("message", ({ id, request }) => {
    handle(request).then(
      () => port.postMessage({ id }),
      (error: unknown) => port.postMessage({ id, error: String((error as Error)?.stack ?? error) }),
    );
  });
}
