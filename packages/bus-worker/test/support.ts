import { Worker } from "node:worker_threads";
import { afterEach } from "vitest";
import { WorkerBus, type WorkerBusOptions } from "../dist/index.js";

/** Starts WorkerBuses for one test and stops every one of them afterwards. */
export function useBuses(): (options?: WorkerBusOptions) => Promise<WorkerBus> {
  const started: WorkerBus[] = [];
  afterEach(async () => {
    // Some tests leave a "block" subscriber that never reads: stop drops what it holds after 500 ms.
    await Promise.all(started.splice(0).map((bus) => bus.stop({ timeoutMs: 500 })));
  });
  return async (options) => {
    const bus = await WorkerBus.start(options);
    started.push(bus);
    return bus;
  };
}

/** Starts a thread that attaches to `bus` with a fresh handle and plays `role` (fixtures/attached.mjs). */
export function attachedThread(bus: WorkerBus, data: Record<string, unknown>): Worker {
  const handle = bus.handle();
  return new Worker(new URL("./fixtures/attached.mjs", import.meta.url), {
    workerData: { handle, ...data },
    transferList: [handle.port],
  });
}

export function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

export async function codeOf(action: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof action === "function" ? action() : action);
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  throw new Error("expected an error, but none was thrown");
}
