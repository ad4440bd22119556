// The audit worker: sees every event on the bus (`**`) and counts them by kind.
import { parentPort, workerData } from "node:worker_threads";
import { attach, type WorkerBusHandle } from "@threadbus/worker";
import type { AuditReport } from "./messages.js";

const { handle } = workerData as { handle: WorkerBusHandle };
const bus = attach(handle);
const everything = await bus.subscribe("**", "", { bufferSize: 4096 });
const report: AuditReport = { events: 0, byKind: {} };
parentPort?.postMessage("ready");
parentPort?.once("message", async () => {
  // Ends the loop below after what the subscription already holds.
  await bus.stop();
});
for await (const event of everything) {
  report.events++;
  report.byKind[event.kind] = (report.byKind[event.kind] ?? 0) + 1;
}
parentPort?.postMessage(report);
