/**
 * A multi-threaded backend on the WorkerBus:
 * - the main thread starts the bus (which spawns the dispatcher worker) and keeps a live revenue
 *   total with a Subscriber on "orders paid";
 * - an audit worker subscribes to everything and checks per-publisher order;
 * - two publisher workers publish orders concurrently into the shared ring.
 * It prints a summary and exits.
 */
import { Worker } from "node:worker_threads";
import { Subscriber } from "@threadbus/core";
import { WorkerBus, type WorkerBusHandle } from "@threadbus/worker";
import type { AuditReport, Order } from "./messages.js";

const ORDERS_PER_PUBLISHER = 50_000;

function startWorker(file: string, data: { handle: WorkerBusHandle } & Record<string, unknown>): Worker {
  return new Worker(new URL(file, import.meta.url), { workerData: data, transferList: [data.handle.port] });
}

function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

const bus = await WorkerBus.start();
const started = performance.now();

let revenue = 0;
let paid = 0;
const revenueCounter = await Subscriber.start(bus, "orders", "paid", (event) => {
  revenue += (event.data as Order).amount;
  paid++;
});
const cancelled = await bus.subscribe("orders", "cancelled", { bufferSize: 64, overflow: "drop-oldest" });

const audit = startWorker("./audit.js", { handle: bus.handle() });
await nextMessage(audit);

const publishers = ["east", "west"].map((name) =>
  startWorker("./publisher.js", { handle: bus.handle(), name, orders: ORDERS_PER_PUBLISHER }),
);
const published = await Promise.all(
  publishers.map((worker) => nextMessage<{ name: string; sent: number }>(worker)),
);
await bus.flush();

const inspection = await bus.inspect();
const reported = nextMessage<AuditReport>(audit);
audit.postMessage("report");
const report = await reported;
const seconds = (performance.now() - started) / 1000;

await revenueCounter.close();
const cancelledStats = cancelled.stats();
await bus.stop();
const stats = bus.stats();

console.log("threadbus multi-thread example");
for (const { name, sent } of published) console.log(`  publisher ${name}: ${sent} events sent`);
console.log(`  main thread: ${paid} orders paid, revenue ${revenue}`);
console.log(
  `  main thread: cancelled orders kept ${cancelledStats.buffered}, dropped by drop-oldest ${cancelledStats.dropped}`,
);
console.log(
  `  audit worker: ${report.events} events (${JSON.stringify(report.bySystem)}), out of order: ${report.outOfOrder}`,
);
console.log(
  `  dispatcher: ${inspection.eventsRead} events read, ${inspection.subscriptions.length} subscriptions, ring ${(inspection.ring.occupancy * 100).toFixed(1)}% full at the end`,
);
console.log(
  `  bus: sent ${stats.sent}, delivered ${stats.delivered}, dropped ${stats.dropped}, refused ${stats.refused} in ${seconds.toFixed(2)} s`,
);

const expectedEvents = published.reduce((sum, p) => sum + p.sent, 0);
const expectedPaid = 2 * ORDERS_PER_PUBLISHER * 0.9;
const ok = report.events === expectedEvents && report.outOfOrder === 0 && paid === expectedPaid;
console.log(ok ? "  OK: every event accounted for, in order per publisher" : "  MISMATCH");
process.exitCode = ok ? 0 : 1;
