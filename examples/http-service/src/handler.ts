// A request-handler worker: receives the orders routed to it (by a glob on the event's path) and
// answers each with create.accepted or create.rejected on the same path, which the main thread's
// Awaiter waits for.
import { parentPort, workerData } from "node:worker_threads";
import { type BusEvent, Subscriber } from "@threadbus/core";
import { attach, type WorkerBusHandle } from "@threadbus/worker";
import { type AcceptedOrder, type HandlerReport, type OrderRequest, PRICES } from "./messages.js";

const { handle, index } = workerData as { handle: WorkerBusHandle; index: number };
const bus = attach(handle);
let received = 0;

function answer(event: BusEvent<OrderRequest>): void {
  received++;
  const order = event.data;
  const price = order === undefined ? undefined : PRICES[order.item];
  if (order === undefined || price === undefined || !Number.isInteger(order.qty) || order.qty < 1) {
    bus.send({
      system: "orders",
      kind: "create.rejected",
      path: event.path,
      data: { error: { code: "BAD_ORDER", message: "unknown item or quantity under 1" } },
    });
    return;
  }
  const accepted: AcceptedOrder = { ...order, total: price * order.qty, handler: index };
  bus.send({ system: "orders", kind: "create.accepted", path: event.path, data: accepted });
}

const orders = await Subscriber.start<OrderRequest>(bus, "orders", "create", answer, { path: `h${index}/*` });
parentPort?.postMessage("ready");
parentPort?.once("message", async () => {
  await orders.close();
  await bus.stop();
  const report: HandlerReport = { handler: index, received };
  parentPort?.postMessage(report);
});
