import { Worker } from "node:worker_threads";
import { Bus, type EventBus, type InspectableBus } from "@threadbus/core";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { Unavailable } from "../scenario.js";
import { nowNs } from "../stats.js";
import { Counter } from "../subjects/counter.js";
import { makeBody, orderEvent } from "../subjects/payload.js";
import { publish } from "../subjects/publish.js";
import { startWorkerBus } from "../subjects/worker_bus.js";

type MonitoredBus = EventBus & InspectableBus;
/** The part of @threadbus/monitor used here (typed locally: no build-order dependency on it). */
interface MonitorModule {
  serveMonitor(bus: MonitoredBus): Promise<{ url: string; close(): Promise<void> }>;
}

// Loaded by path on first use (bench's package.json does not list @threadbus/monitor): if it is
// not built, only this scenario is skipped, with the reason.
const MONITOR_ENTRY = new URL("../../../packages/bus-monitor/dist/index.js", import.meta.url).href;

async function loadMonitor(): Promise<MonitorModule> {
  try {
    return (await import(MONITOR_ENTRY)) as MonitorModule;
  } catch (error) {
    throw new Unavailable(
      `@threadbus/monitor could not be loaded (${(error as Error).message.split("\n")[0]})`,
    );
  }
}

/**
 * "The page": a worker thread doing over HTTP what the monitor page does in a browser: every
 * second it fetches /varz, /subsz, /connz and /history, and it keeps a live tail of every event
 * (`**`, the worst case: every event matches it) streaming and reads it. It runs on its own
 * thread, as a browser would run in its own process.
 */
const PAGE = `
const { parentPort, workerData } = require("node:worker_threads");
const base = workerData.url;
let running = true;
let polls = 0;
let tailBytes = 0;
const controller = new AbortController();
(async () => {
  const response = await fetch(base + "tail?system=**", { signal: controller.signal });
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    tailBytes += value.byteLength;
  }
})().catch(() => {});
const poll = async () => {
  while (running) {
    await Promise.all(["varz", "subsz?sort=pending&limit=50", "connz?limit=50", "history?seconds=600"].map(
      (path) => fetch(base + path).then((r) => r.json())));
    polls++;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
};
const polling = poll();
parentPort.once("message", async () => {
  running = false;
  controller.abort();
  await polling;
  parentPort.postMessage({ polls, tailBytes });
});
parentPort.postMessage("open");
`;

interface State {
  bus: MonitoredBus;
  counter: Counter;
  close: () => Promise<void>;
}

async function withPage(bus: MonitoredBus): Promise<() => Promise<void>> {
  const { serveMonitor } = await loadMonitor();
  const monitor = await serveMonitor(bus);
  const page = new Worker(PAGE, { eval: true, workerData: { url: monitor.url } });
  await new Promise((resolve, reject) => {
    page.once("message", resolve);
    page.once("error", reject);
  });
  return async () => {
    const closed = new Promise((resolve) => page.once("message", resolve));
    page.postMessage("close");
    await closed;
    await page.terminate();
    await monitor.close();
  };
}

export const monitorScenario: Scenario = {
  id: "l-monitor",
  title: "cost of the monitor: throughput with the page open and the tail streaming",
  measures:
    "Events/s from a publisher on the main thread to a subscriber on the main thread, with and without @threadbus/monitor serving the bus. With the monitor, a worker thread stands in for the page: it fetches /varz, /subsz, /connz and /history every second, as the page does, and streams a live tail of every event (`**`, the worst case: the tail's drop-newest buffer of 64 fills and the bus counts what it drops). The ratio is the throughput kept with the monitor (the goal: at least 0.95x, a drop of 5% at most). WorkerBus: send() into the ring, the dispatcher routes; Bus: the in-thread dispatcher, the monitor's HTTP server on the same thread.",
  async run(recorder: CaseRecorder) {
    const count = recorder.quick ? 100_000 : 1_500_000;
    // A long warm-up: with a short one, whichever side ran first paid for the JIT (measured: the
    // same code read 0.69x with the monitored side first, 1.19x with it second).
    const warmup = count / 5;
    const body = makeBody(64);
    const makeEvent = (seq: number) => orderEvent(seq, body);
    const buses: Array<{ id: string; name: string; start: () => Promise<MonitoredBus> }> = [
      { id: "l-monitor-worker", name: "WorkerBus", start: () => startWorkerBus() },
      { id: "l-monitor-bus", name: "Bus", start: async () => new Bus() },
    ];
    for (const { id, name, start } of buses) {
      const target = recorder.case(id, `${name}, ${count.toLocaleString("en")} events of 64 B`);
      for (const monitored of [false, true]) {
        // The baseline first, then the same workload with the monitor.
        await recorder.subject<State>(target, {
          subject: monitored
            ? `threadbus ${name} + monitor (page open, tail streaming)`
            : `threadbus ${name} alone`,
          // The ratio compares "with monitor" (the subject) against "alone" (the baseline).
          threadbus: monitored,
          unit: "events/s",
          async setup() {
            if (monitored) await loadMonitor();
            const bus = await start();
            const counter = new Counter(await bus.subscribe("orders", "created"));
            const close = monitored ? await withPage(bus) : async () => {};
            return { bus, counter, close };
          },
          warmup: async ({ bus, counter }) => {
            await publish(bus, warmup, makeEvent);
            await counter.until(warmup);
          },
          async repeat({ bus, counter }) {
            const goal = counter.count + count;
            const started = nowNs();
            await publish(bus, count, makeEvent);
            await counter.until(goal);
            return { value: count / ((nowNs() - started) / 1e9) };
          },
          async teardown({ bus, close }) {
            await close();
            await bus.stop();
          },
        });
      }
    }
  },
};
