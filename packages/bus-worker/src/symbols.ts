/** Internals reachable by tests (and nothing else): not exported from the package index. */
export const kDispatcherWorker = Symbol("threadbus.dispatcherWorker");
