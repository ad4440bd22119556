// A worker thread that joins the bus the one documented way: the handle arrives as
// workerData.handle, and attach() takes it.
import { workerData } from "node:worker_threads";
import { attach, type WorkerBusHandle } from "@threadbus/worker";

const { handle, count } = workerData as { handle: WorkerBusHandle; count: number };
const bus = attach(handle);
for (let i = 0; i < count; i++) {
  bus.send({ system: "shop", kind: "order.created", path: `order/${i}`, data: { i } });
}
// Detaching travels behind this thread's sends, so every one of them is delivered first.
await bus.stop();
