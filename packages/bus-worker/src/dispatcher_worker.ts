/**
 * The dispatcher worker's entry: runs the Dispatcher loop on the shared ring and serves the admin
 * API over comlink. Exits by itself once the bus is stopped and drained (its ports close).
 */
import { workerData } from "node:worker_threads";
import { expose } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import { AdminApi } from "./admin.js";
import { Dispatcher } from "./dispatcher.js";
import type { DispatcherMessage, DispatcherWorkerData } from "./protocol.js";

const data = workerData as DispatcherWorkerData;
const dispatcher = new Dispatcher({
  buffer: data.buffer,
  control: data.control,
  slowSubscriberMs: data.slowSubscriberMs,
  // Warnings go to the logger of the thread that started the bus (a logger cannot cross threads).
  warn: (message) => {
    const warning: DispatcherMessage = { type: "warning", message };
    data.control.postMessage(warning);
  },
});
expose(new AdminApi(dispatcher), nodeEndpoint(data.admin));
await dispatcher.run();
data.admin.close();
