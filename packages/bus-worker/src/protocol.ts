import type { MessagePort } from "node:worker_threads";
import type { ThreadbusErrorCode } from "@threadbus/core";

/**
 * The messages threads exchange besides the ring. Ports cannot travel through shared memory, so
 * a record that needs one (subscribe) names a token and the port follows by postMessage; the
 * dispatcher takes it from the client's control port when it reaches the record.
 */

/** Client -> dispatcher, on the client's control port. */
export type ClientMessage =
  | { type: "port"; client: number; token: number; port: MessagePort }
  /** Sent by the starting thread: a new client (from bus.handle()) and its control port. */
  | { type: "client"; client: number; port: MessagePort };

export interface SerializedError {
  code: ThreadbusErrorCode | "INTERNAL";
  message: string;
  max?: number;
}

/** Dispatcher -> client, on the client's control port. */
export type DispatcherMessage =
  | { type: "reply"; token: number; ok: true; value: number }
  | { type: "reply"; token: number; ok: false; error: SerializedError }
  /** The dispatcher drained the ring after stop and is about to exit. */
  | { type: "finished" }
  /** A warning for the starting thread's logger (a slow "block" subscriber). */
  | { type: "warning"; message: string };

/**
 * Dispatcher -> subscriber, on the subscription's port: a Uint8Array (its buffer transferred) is a batch of events
 * (codec.ts); this object ends the subscription, carrying the dispatcher's final counters.
 */
export interface EndMessage {
  type: "end";
  dropped: number;
  delivered: number;
}

/** Subscriber -> dispatcher: a number returns that many credits; "closing" lifts the limit. */
export type SubscriberMessage = number | "closing";

/** workerData of the dispatcher worker. */
export interface DispatcherWorkerData {
  buffer: SharedArrayBuffer;
  ringOffset: number;
  countersOffset: number;
  control: MessagePort;
  admin: MessagePort;
  slowSubscriberMs: number;
}
