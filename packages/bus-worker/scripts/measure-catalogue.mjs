// Quick measurements of catalogued events (not a test, not the bench harness):
//   node scripts/measure-catalogue.mjs      (build first: pnpm --filter @threadbus/worker build)
// 1. publisher-side cost of send() with room in the ring: catalogued { seq, body } vs generic;
// 2. main -> dispatcher -> main throughput with a consumer that reads data, catalogued vs generic.
import { defineEvents } from "@threadbus/core";
import { z } from "zod";
import { threadCpuMs, WorkerBus } from "../dist/index.js";

const events = defineEvents({ orders: { created: z.object({ seq: z.int(), body: z.string() }) } });
const body = "x".repeat(36);
const N = Number(process.env.N ?? 200_000);

async function sendCost(options) {
  // 64 MiB ring, 200k records of ~100 B a round: the later rounds write pages already touched.
  // Timed by this thread's CPU time (10 ms ticks), not the wall clock: on a shared machine the
  // wall clock mostly measures how long the thread waited for a core.
  const bus = await WorkerBus.start({ ringBytes: 1 << 26, onFull: "throw", ...options });
  const n = 200_000;
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 6; round++) {
    const cpu = threadCpuMs();
    for (let i = 0; i < n; i++)
      bus.send({ system: "orders", kind: "created", path: "order/1", data: { seq: i, body } });
    best = Math.min(best, ((threadCpuMs() - cpu) * 1e6) / n);
    await bus.flush();
  }
  const what = `${options.events ? "catalogued" : "generic"}${options.validate ? ` validate ${options.validate}` : ""}`;
  console.log(`send() ${what}: ${best.toFixed(0)} ns of thread CPU (best of 6 rounds of ${n})`);
  await bus.stop();
}

async function throughput(options) {
  const bus = await WorkerBus.start({ onFull: "throw", ...options });
  const sub = await bus.subscribe("orders", "created");
  let sum = 0;
  let received = 0;
  const consume = (async () => {
    for await (const event of sub) {
      sum += event.data.seq;
      if (++received === 3 * N) break;
    }
  })();
  for (let round = 0; round < 3; round++) {
    const base = round * N;
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      while (i - (received - base) >= 8192) await new Promise((resolve) => setImmediate(resolve));
      try {
        bus.send({ system: "orders", kind: "created", path: "order/1", data: { seq: i, body } });
      } catch (error) {
        if (error.code !== "BUS_FULL") throw error;
        i--;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    while (received < base + N) await new Promise((resolve) => setImmediate(resolve));
    if (round === 2)
      console.log(
        `main -> main, reads data, ${options.events ? "catalogued" : "generic"}: ${(((N / (performance.now() - started)) * 1000) / 1e6).toFixed(2)} M events/s`,
      );
  }
  await consume;
  await bus.stop();
  return sum;
}

// ONLY=catalogued (or send) runs the catalogued throughput (or send cost) alone, for node --cpu-prof.
if (process.env.ONLY === "catalogued") await throughput({ events });
else if (process.env.ONLY === "send") await sendCost({ events });
else {
  await sendCost({});
  await sendCost({ events });
  await sendCost({ events, validate: "full" });
  await throughput({});
  await throughput({ events });
}
