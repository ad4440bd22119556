export type { ConnectionCounters } from "./connections.js";
export type { SubscriptionRow } from "./endpoints.js";
export { MonitorTokenRequiredError } from "./errors.js";
export type { HistoryColumns, Rates } from "./history.js";
export { isLoopback, type MonitorOptions } from "./options.js";
export { type Monitor, type MonitorStats, serveMonitor } from "./server.js";
export type { MonitoredBus } from "./snapshot.js";
export { TAIL_BUFFER, TAIL_EVENTS_PER_TICK, TAIL_TICK_MS, type TailCounters } from "./tail.js";
export type { Jsonified, TailEvent } from "./tail_event.js";
