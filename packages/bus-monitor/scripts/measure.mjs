// The monitor's cost to the bus, measured A/B interleaved on one bus (less noisy on a shared
// machine than `pnpm bench -- l-monitor`, which measures the two sides one after the other):
// each round times N events from the main thread to a subscriber there, once with no monitor and
// once with the monitor served, a stand-in page polling it every second (as the page does) and a
// live tail of every event (`**`, the worst case) streaming. Prints the median ratios and ranges:
// of throughput (wall clock, noisy where other work shares the machine) and of the CPU time the
// bus's own threads spent per event (the main thread, where the monitor runs too, and on the
// WorkerBus the dispatcher thread; /proc/thread-self/stat, 10 ms ticks), which that noise moves
// much less.
// `pnpm --filter @threadbus/monitor measure [rounds]`
import { Worker } from "node:worker_threads";
import { Bus } from "@threadbus/core";
import { threadCpuMs, WorkerBus } from "@threadbus/worker";
import { serveMonitor } from "../dist/index.js";

const ROUNDS = Number(process.argv[2]) || 8;
const PAGE = `
const { parentPort, workerData } = require("node:worker_threads");
const base = workerData.url;
let running = true;
const controller = new AbortController();
let tailed = 0;
(async () => {
  const response = await fetch(base + "tail?system=**", { signal: controller.signal });
  const reader = response.body.getReader();
  for (;;) { const { done, value } = await reader.read(); if (done) break; tailed += value.byteLength; }
})().catch(() => {});
const polling = (async () => {
  while (running) {
    // As the page does, a failed poll is retried on the next tick: while an in-thread publisher
    // holds the event loop for seconds, the server can close (reset) a kept-alive connection the
    // next poll was already sent on (seen on a loaded machine, before and after issue 23).
    await Promise.all(["varz", "subsz?limit=50", "connz?limit=50", "history?seconds=600"].map((p) => fetch(base + p).then((r) => r.json()))).catch(() => {});
    parentPort.postMessage("polled");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
})();
parentPort.on("message", async () => { running = false; controller.abort(); await polling; parentPort.postMessage({ tailed }); });
`;

async function openPage(bus) {
  const monitor = await serveMonitor(bus);
  const page = new Worker(PAGE, { eval: true, workerData: { url: monitor.url } });
  await new Promise((resolve) => page.once("message", resolve)); // first poll answered
  while (monitor.stats().tails === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  return async () => {
    const report = new Promise((resolve) => page.on("message", (m) => typeof m === "object" && resolve(m)));
    page.postMessage("close");
    const { tailed } = await report;
    await page.terminate();
    await monitor.close();
    return { tailed, ...monitor.stats().tail };
  };
}

/** CPU ms used so far by the bus's threads: this (main) thread, plus the dispatcher's if it has one. */
async function busCpuMs(bus) {
  const dispatcher = bus instanceof WorkerBus ? (await bus.inspect()).dispatcherCpuMs : 0;
  return threadCpuMs() + dispatcher;
}

async function time(bus, counter, n) {
  const cpuBefore = await busCpuMs(bus);
  const event = { system: "orders", kind: "created", path: "o/1", data: { seq: 1, body: "x".repeat(48) } };
  const goal = counter.count + n;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    while (!bus.send(event)) await new Promise((resolve) => setImmediate(resolve));
    if (i % 1024 === 1023) await bus.flush();
  }
  await bus.flush();
  await counter.until(goal);
  const rate = n / ((performance.now() - started) / 1000);
  return { rate, cpuNsPerEvent: (((await busCpuMs(bus)) - cpuBefore) * 1e6) / n };
}

function counting(subscription) {
  const counter = { count: 0, target: Number.POSITIVE_INFINITY, reached: null };
  counter.until = (target) =>
    counter.count >= target
      ? Promise.resolve()
      : new Promise((resolve) => Object.assign(counter, { target, reached: resolve }));
  (async () => {
    for await (const _ of subscription) if (++counter.count >= counter.target) counter.reached?.();
  })();
  return counter;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const [name, start, n] of [
  ["WorkerBus", () => WorkerBus.start(), 1_500_000],
  ["Bus", async () => new Bus(), 6_000_000],
]) {
  const bus = await start();
  const counter = counting(await bus.subscribe("orders", "created"));
  await time(bus, counter, n / 4); // warm-up
  const ratios = [];
  const cpuRatios = [];
  const rates = { alone: [], monitored: [] };
  const cpu = { alone: [], monitored: [] };
  let tail;
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which side goes first, so a drift of the machine's load hits both alike.
    const order = round % 2 === 0 ? ["alone", "monitored"] : ["monitored", "alone"];
    const rate = {};
    for (const side of order) {
      const close = side === "monitored" ? await openPage(bus) : null;
      rate[side] = await time(bus, counter, n);
      if (close) tail = await close();
    }
    rates.alone.push(rate.alone.rate);
    rates.monitored.push(rate.monitored.rate);
    ratios.push(rate.monitored.rate / rate.alone.rate);
    cpu.alone.push(rate.alone.cpuNsPerEvent);
    cpu.monitored.push(rate.monitored.cpuNsPerEvent);
    cpuRatios.push(rate.monitored.cpuNsPerEvent / rate.alone.cpuNsPerEvent);
  }
  await bus.stop();
  const fmt = (v) => `${(v / 1000).toFixed(0)}k/s`;
  const range = (values) => `${Math.min(...values).toFixed(3)}-${Math.max(...values).toFixed(3)}`;
  console.log(
    `${name}, ${ROUNDS} A/B rounds of ${n.toLocaleString("en")} events, page open and a ** tail streaming:`,
  );
  console.log(
    `  throughput kept ${median(ratios).toFixed(3)}x (range ${range(ratios)}); alone ${fmt(median(rates.alone))}, with the monitor ${fmt(median(rates.monitored))} (medians)`,
  );
  console.log(
    `  CPU per event on the bus's threads ${median(cpuRatios).toFixed(3)}x (range ${range(cpuRatios)}); alone ${median(cpu.alone).toFixed(0)} ns, with the monitor ${median(cpu.monitored).toFixed(0)} ns (medians)`,
  );
  console.log(
    `  the last tail: shown ${tail.shown}, dropped by the bus (buffer full) ${tail.droppedByBus}, sampled out ${tail.sampledOut}`,
  );
}
