/**
 * The audit thread: a subscriber in a worker. It sees every event and checks that each handler's
 * events arrive in the order that handler published them (the bus's ordering rule).
 */
import { parentPort, workerData } from "node:worker_threads";
import { attach } from "@threadbus/worker";
import type { AuditData, AuditReport, Stamp } from "./messages.js";

const { handle } = workerData as AuditData;
const bus = attach(handle);
const report: AuditReport = { events: 0, bySystem: {}, outOfOrder: 0 };
const last = new Map<string, number>();

const everything = await bus.subscribe<Stamp>("**", "", { bufferSize: 8192 });
parentPort!.once("message", async () => {
  await bus.flush();
  await bus.stop(); // the subscription ends after what it holds
});
parentPort!.postMessage("ready");

for await (const event of everything) {
  report.events++;
  report.bySystem[event.system] = (report.bySystem[event.system] ?? 0) + 1;
  const stamp = event.data;
  if (stamp === undefined || typeof stamp.seq !== "number") continue;
  if (stamp.seq <= (last.get(stamp.handler) ?? -1)) report.outOfOrder++;
  last.set(stamp.handler, stamp.seq);
}
parentPort!.postMessage(report);
