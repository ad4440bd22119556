import type { MessagePort } from "node:worker_threads";
import type { ThreadbusErrorCode } from "@threadbus/core";

/**
 * The messages threads exchange besides the ring. Ports and buffers cannot travel through the
 * ring, so a thread posts its delivery ring and port (once, before its first subscribe) and each
 * new slot page (before the subscribe that needs it) on its control port; the dispatcher takes
 * them from there when it reaches a record that needs them.
 */

/** Client -> dispatcher, on the client's control port. */
export type ClientMessage =
  /** The thread's delivery ring and port (delivery/), ahead of its first subscribe record. */
  | { type: "delivery"; client: number; ring: SharedArrayBuffer; port: MessagePort }
  /** A page of the thread's subscription slots (shm/delivery_layout.ts), ahead of the subscribe that uses it. */
  | { type: "slots"; client: number; page: number; buffer: SharedArrayBuffer }
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
  /**
   * The answer to a batch record: one value per item (subscribe: 0; unsubscribe: 1 removed, 0
   * unknown id); a negative value means the item failed with `error`.
   */
  | { type: "batch"; token: number; values: number[]; error?: SerializedError }
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
