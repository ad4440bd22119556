import { workerData } from "node:worker_threads";
import type { Logger } from "@threadbus/core";
import { BusClient } from "./client.js";
import type { WorkerBusHandle } from "./worker_bus.js";

/**
 * A WorkerBus as seen from another thread: the same publish and subscribe API, the same ring and
 * the same global order. `stop()` detaches this thread only (its subscriptions end; the bus goes
 * on); the thread that started the bus stops the bus.
 */
export class AttachedBus extends BusClient {
  #stopPromise: Promise<void> | null = null;

  constructor(handle: WorkerBusHandle, logger: Logger = console) {
    super(handle, handle.port, logger);
  }

  stop(): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    this.markClosed();
    this.#stopPromise = (async () => {
      if (!(await this.detachRecord().catch(() => false))) this.complete();
      await this.finished();
    })();
    return this.#stopPromise;
  }
}

/** Attaches this thread to a running WorkerBus through a handle from `bus.handle()`. */
export function attach(
  handle: WorkerBusHandle = (workerData as { threadbus: WorkerBusHandle }).threadbus,
  logger?: Logger,
): AttachedBus {
  return new AttachedBus(handle, logger);
}
