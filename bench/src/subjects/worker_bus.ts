import type { WorkerBus, WorkerBusOptions } from "@threadbus/worker";
import { Unavailable } from "../scenario.js";

type WorkerModule = typeof import("@threadbus/worker");

// Loaded on first use, not imported statically: if @threadbus/worker is not built (or broken),
// only its subjects are skipped, with the reason, and every other scenario still runs.
const WORKER_PACKAGE: string = "@threadbus/worker";

export async function loadWorkerModule(): Promise<WorkerModule> {
  try {
    return (await import(WORKER_PACKAGE)) as WorkerModule;
  } catch (error) {
    throw new Unavailable(
      `${WORKER_PACKAGE} could not be loaded (${(error as Error).message.split("\n")[0]})`,
    );
  }
}

/** Starts a WorkerBus, or throws Unavailable saying why not. */
export async function startWorkerBus(options?: WorkerBusOptions): Promise<WorkerBus> {
  const module = await loadWorkerModule();
  return module.WorkerBus.start(options);
}

/**
 * CPU ms the bus's dispatcher thread has used since it started, from `inspect()`; null where the
 * platform does not say (or the implementation does not report it).
 */
export async function dispatcherCpuMs(bus: WorkerBus): Promise<number | null> {
  const report = (await bus.inspect()) as { dispatcherCpuMs?: number | null };
  return typeof report.dispatcherCpuMs === "number" ? report.dispatcherCpuMs : null;
}
