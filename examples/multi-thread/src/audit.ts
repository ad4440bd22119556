/**
 * The audit thread: subscribes to every event and checks that each publisher's orders arrive in
 * order. Reports its counts when the main thread asks, then detaches.
 */
import { parentPort, workerData } from "node:worker_threads";
import { attach } from "@threadbus/worker";
import type { AuditData, AuditReport } from "./messages.js";

const { handle } = workerData as AuditData;
const bus = attach(handle);
const report: AuditReport = { events: 0, bySystem: {}, outOfOrder: 0 };
const lastId = new Map<string, number>();

const everything = await bus.subscribe("**", "", { bufferSize: 4096 });
parentPort?.once("message", async () => {
  await bus.flush();
  await bus.stop(); // detaches this thread: the subscription ends after what is buffered
});
parentPort?.postMessage("ready");

for await (const event of everything) {
  report.events++;
  report.bySystem[event.system] = (report.bySystem[event.system] ?? 0) + 1;
  if (event.system === "orders" && event.kind === "created") {
    const [publisher, id] = event.path.split("/");
    const previous = lastId.get(publisher!) ?? -1;
    if (Number(id) !== previous + 1) report.outOfOrder++;
    lastId.set(publisher!, Number(id));
  }
}
parentPort?.postMessage(report);
