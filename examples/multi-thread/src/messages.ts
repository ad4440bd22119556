import type { WorkerBusHandle } from "@threadbus/worker";

/** workerData of the publisher workers. */
export interface PublisherData {
  handle: WorkerBusHandle;
  name: string;
  orders: number;
}

/** workerData of the audit worker. */
export interface AuditData {
  handle: WorkerBusHandle;
}

/** What the audit worker reports when asked. */
export interface AuditReport {
  events: number;
  bySystem: Record<string, number>;
  outOfOrder: number;
}

/** An order event's data. */
export interface Order {
  id: number;
  amount: number;
}
