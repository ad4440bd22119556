/**
 * A publisher thread: attaches to the bus through its handle and publishes orders (created, then
 * paid or cancelled) as fast as the ring takes them, then detaches.
 */
import { parentPort, workerData } from "node:worker_threads";
import { attach } from "@threadbus/worker";
import type { Order, PublisherData } from "./messages.js";

const { handle, name, orders } = workerData as PublisherData;
const bus = attach(handle);
let sent = 0;

for (let id = 0; id < orders; id++) {
  const order: Order = { id, amount: (id % 97) + 1 };
  // send() returns false only when the bus is stopped; a full ring waits (onFull "wait").
  if (bus.send({ system: "orders", kind: "created", path: `${name}/${id}`, data: order })) sent++;
  const outcome = id % 10 === 0 ? "cancelled" : "paid";
  if (bus.send({ system: "orders", kind: outcome, path: `${name}/${id}`, data: order })) sent++;
  if (id % 1000 === 0 && bus.send({ system: "metrics", kind: "progress", path: name, data: id })) sent++;
}
await bus.flush();
parentPort?.postMessage({ name, sent });
await bus.stop();
