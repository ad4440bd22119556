import type { MessagePort } from "node:worker_threads";
import type { ThreadbusErrorCode } from "@threadbus/core";

/**
 * The messages threads exchange besides the ring. Ports cannot travel through shared memory, so
 * a record that needs one (subscribe) names a token and the port follows by postMessage; the
 * dispatcher takes it from the client's control port when it reaches the record.
 */

/** Client -> dispatcher, on the client's control port. */
export type ClientMessage =
  /** A new subscription's port and delivery ring, ahead of its subscribe record. */
  | { type: "port"; client: number; token: number; port: MessagePort; ring: SharedArrayBuffer }
  /** Sent by the starting thread: a new client (from bus.handle()) and its control port. */
  | { type: "client"; client: number; nonce: number; port: MessagePort };

export interface SerializedError {
  code: ThreadbusErrorCode | "INTERNAL";
  message: string;
  max?: number;
}

/** Dispatcher -> client, on the client's control port. */
export type DispatcherMessage =
  | { type: "reply"; token: number; ok: true; value: number }
  | { type: "reply"; token: number; ok: false; error: SerializedError }
  /** The ring is at most half full again (this client asked, with its space flag). */
  | { type: "space" }
  /** A subscription of this client was removed: its ring ends after what it holds. */
  | { type: "removed"; id: string }
  /** The dispatcher drained the ring after stop and is about to exit. */
  | { type: "finished" }
  /** A warning for the starting thread's logger (a slow "block" subscriber, a torn record). */
  | { type: "warning"; message: string };

/** workerData of the dispatcher worker. */
export interface DispatcherWorkerData {
  buffer: SharedArrayBuffer;
  control: MessagePort;
  admin: MessagePort;
  slowSubscriberMs: number;
}
