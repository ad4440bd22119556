import type { EventBus } from "@threadbus/core";
import { Unavailable } from "../scenario.js";

/** The part of @threadbus/worker the benchmark uses, declared here so bench builds before it exists. */
export interface WorkerBusLike extends EventBus {
  handle(): unknown;
}

interface WorkerModule {
  WorkerBus?: { start(options?: Record<string, unknown>): Promise<WorkerBusLike> };
  attach?: unknown;
  subscribePool?: unknown;
}

// A variable specifier keeps tsc from resolving the package at build time: bench must build and
// run (skipping these subjects) while @threadbus/worker is not there or not built.
const WORKER_PACKAGE = "@threadbus/worker";

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
export async function startWorkerBus(): Promise<WorkerBusLike> {
  const module = await loadWorkerModule();
  if (typeof module.WorkerBus?.start !== "function") {
    throw new Unavailable(`${WORKER_PACKAGE} does not export WorkerBus.start() yet`);
  }
  return module.WorkerBus.start();
}
