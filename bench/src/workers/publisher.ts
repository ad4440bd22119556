import { parentPort } from "node:worker_threads";
import type { EventBus } from "@threadbus/core";
import type { WorkerBusHandle } from "@threadbus/worker";
import { IN_FLIGHT, publishWithBackPressure } from "../subjects/publish.js";
import { loadWorkerModule } from "../subjects/worker_bus.js";

/**
 * A publisher thread for scenario (e). Messages from the main thread:
 * - { attach: handle }: attach to the WorkerBus behind `handle` (answers "attached");
 * - { run: { mode, count, body } }: publish `count` events, then answer "done";
 * - a number: how many of this run's events the main thread has received (flow control for the
 *   postMessage modes, which otherwise flood the main thread's queue).
 */
export interface RunRequest {
  mode: "plain" | "batched" | "threadbus";
  count: number;
  body: string;
}

const BATCH = 64;
const port = parentPort!;
let bus: EventBus | null = null;
let acked = 0;
let wake: (() => void) | null = null;

port.on("message", (message: unknown) => {
  if (typeof message === "number") {
    acked = message;
    wake?.();
    wake = null;
  } else if (typeof message === "object" && message !== null && "attach" in message) {
    void attach(message.attach).then(
      () => port.postMessage("attached"),
      (error: unknown) => port.postMessage({ error: String(error) }),
    );
  } else if (typeof message === "object" && message !== null && "run" in message) {
    void run(message.run as RunRequest).then(
      () => port.postMessage("done"),
      (error: unknown) => port.postMessage({ error: String(error) }),
    );
  }
});

async function attach(handle: unknown): Promise<void> {
  const { attach } = await loadWorkerModule();
  bus = attach(handle as WorkerBusHandle);
}

async function run({ mode, count, body }: RunRequest): Promise<void> {
  acked = 0;
  if (mode === "threadbus") {
    if (!bus) throw new Error("not attached");
    await publishWithBackPressure(bus, count, (seq) => ({
      system: "orders",
      kind: "created",
      path: "o/1",
      data: { seq, body },
    }));
    return;
  }
  let sent = 0;
  while (sent < count) {
    if (sent - acked >= IN_FLIGHT) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      continue;
    }
    if (mode === "plain") {
      port.postMessage({ system: "orders", kind: "created", path: "o/1", data: { seq: sent++, body } });
    } else {
      const events = new Array(Math.min(BATCH, count - sent));
      for (let i = 0; i < events.length; i++) {
        events[i] = { system: "orders", kind: "created", path: "o/1", data: { seq: sent++, body } };
      }
      port.postMessage(events);
    }
  }
}
