/** Internals reachable by tests (and nothing else): not exported from the package index. */
export const kDispatcherWorker = Symbol("threadbus.dispatcherWorker");
/** A client's batch records sent and replies received (per-thread delivery: subscribes batch). */
export const kControlTrips = Symbol("threadbus.controlTrips");
