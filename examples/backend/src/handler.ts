/**
 * A request-handler thread: attaches to the WorkerBus and publishes registry and process events
 * at a steady rate, as an HTTP handler would while serving traffic. Every quarter second it asks
 * the Lua registrar to register a service and waits for the answer through an Awaiter.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Awaiter } from "@threadbus/core";
import { attach } from "@threadbus/worker";
import type { EntryUpdate, HandlerData, HandlerReport, Stamp } from "./messages.js";

const { handle, name, rate } = workerData as HandlerData;
const bus = attach(handle);
const answers = new Awaiter(bus, "registry", "register.*");
const report: HandlerReport = {
  name,
  sent: 0,
  refused: 0,
  requests: 0,
  accepted: 0,
  rejected: 0,
  unanswered: 0,
};
const TICK_MS = 10;
const SERVICES = ["billing", "search", "auth", "mail", "images", "ledger"];

let seq = 0;
let running = true;
function publish(system: string, kind: string, path: string, data: Stamp | EntryUpdate): void {
  if (bus.send({ system, kind, path, data })) report.sent++;
  else report.refused++;
}

/** One tick's worth of traffic: a mix of registry and process events, every one stamped. */
function tick(count: number): void {
  for (let i = 0; i < count; i++) {
    const n = seq;
    const stamp = { handler: name, seq: seq++ };
    switch (n % 10) {
      case 0:
        publish("registry", "create", `svc/${name}-${n}`, stamp);
        break;
      case 1:
      case 2:
      case 3: {
        const update: EntryUpdate = { ...stamp, field: "endpoint", body: `https://${name}.internal/${n}` };
        publish("registry", "entry.update", `svc/${name}-${n - (n % 10)}`, update);
        break;
      }
      case 4:
        // Every third service created is deleted again; the rest stay in the catalogue.
        if ((n - 4) % 30 === 0) publish("registry", "delete", `svc/${name}-${n - 4}`, stamp);
        else
          publish("registry", "entry.update", `svc/${name}-${n - 4}`, {
            ...stamp,
            field: "owner",
            body: name,
          });
        break;
      case 5:
      case 6:
        publish("process", "start", `pid/${name}-${n}`, stamp);
        break;
      default:
        publish("process", "exit", `pid/${name}-${n - 2}`, stamp);
    }
  }
}

/** Asks the Lua registrar to register a service; some names repeat, so some answers are refusals. */
async function register(): Promise<void> {
  const path = `req/${name}/${report.requests++}`;
  // Names repeat now and then, so the registrar refuses some: the Awaiter reports its error.
  const service = `${SERVICES[Math.floor(Math.random() * SERVICES.length)]}-${Math.floor(Math.random() * 12)}`;
  const waiter = await answers.prepare(path, { timeoutMs: 10_000 });
  bus.send({ system: "registry", kind: "register", path, data: { name: `${service}@${name}` } });
  try {
    const answer = await waiter.wait();
    if (answer.accepted) report.accepted++;
    else report.rejected++;
  } catch {
    report.unanswered++;
  }
}

const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
const started = performance.now();
let ticks = 0;
const timer = setInterval(() => {
  // Catch up after a late timer, so the rate holds on a loaded machine.
  const due = Math.floor((performance.now() - started) / TICK_MS);
  for (; ticks < due && running; ticks++) tick(perTick);
}, TICK_MS);
const requests: Promise<void>[] = [];
const asking = setInterval(() => requests.push(register()), 250);

parentPort!.once("message", async () => {
  running = false;
  clearInterval(timer);
  clearInterval(asking);
  await Promise.all(requests);
  await bus.flush();
  await answers.close();
  parentPort!.postMessage(report);
  await bus.stop(); // detaches this thread; the bus goes on
});
parentPort!.postMessage("ready");
