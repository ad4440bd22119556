import { type MessagePort, parentPort, workerData } from "node:worker_threads";

// The far end of the postMessage peers: every message (one event, or a batch of 64) goes straight back.
const port = parentPort!;
port.on("message", (message: unknown) => port.postMessage(message));

// A second port answers "how much CPU has this thread used?" (f-latency reports it beside the
// dispatcher's), so the echo traffic itself carries nothing but events.
const control = (workerData as { control?: MessagePort } | null)?.control;
let threadCpuMs: (() => number | null) | null = null;
control?.on("message", async () => {
  threadCpuMs ??= await loadThreadCpu();
  control.postMessage(threadCpuMs());
});

async function loadThreadCpu(): Promise<() => number | null> {
  try {
    const module: string = "@threadbus/worker";
    return ((await import(module)) as typeof import("@threadbus/worker")).threadCpuMs;
  } catch {
    return () => null;
  }
}
