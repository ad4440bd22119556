import type { WorkerBusHandle } from "@threadbus/worker";

/** workerData of a request-handler (publisher) thread. */
export interface HandlerData {
  handle: WorkerBusHandle;
  name: string;
  /** Events per second this handler publishes. */
  rate: number;
}

/** What a handler thread reports when told to stop. */
export interface HandlerReport {
  name: string;
  sent: number;
  refused: number;
  requests: number;
  accepted: number;
  rejected: number;
  unanswered: number;
}

/** workerData of the audit (subscriber) thread. */
export interface AuditData {
  handle: WorkerBusHandle;
}

/** What the audit thread reports: events seen per system, and order breaks per handler. */
export interface AuditReport {
  events: number;
  bySystem: Record<string, number>;
  outOfOrder: number;
}

/** The data of every event a handler publishes: who sent it, and its place in that handler's order. */
export interface Stamp {
  handler: string;
  seq: number;
}

/** An "entry.update" event's data: the pool hashes `body`. */
export interface EntryUpdate extends Stamp {
  field: string;
  body: string;
}
