// Measures a CPU-heavy bus handler on the main thread vs in a pool subscription (piscina):
// throughput and the main thread's event-loop delay (p99, monitorEventLoopDelay at 1 ms).
// Not a test: run after `pnpm --filter @threadbus/worker build`:
//   node packages/bus-worker/scripts/measure-pool.mjs [events=400] [threads=2]
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { Bus } from "@threadbus/core";
import { subscribePool } from "../dist/index.js";
import { work } from "../test/fixtures/pool-cpu.mjs";

const EVENTS = Number(process.argv[2] ?? 400);
const THREADS = Number(process.argv[3] ?? 2);
const TASK_FILE = new URL("../test/fixtures/pool-cpu.mjs", import.meta.url);

function roundsFor(targetMs) {
  const started = performance.now();
  work(0, 200);
  const perRound = (performance.now() - started) / 200;
  return Math.max(1, Math.round(targetMs / perRound));
}

// A publisher that emits one event per setImmediate turn, as a server handling requests would.
async function publish(bus, rounds) {
  for (let seq = 0; seq < EVENTS; seq++) {
    bus.send({ system: "job", kind: "hash", path: `jobs/${seq}`, data: { seed: seq, rounds } });
    await new Promise((resolve) => setImmediate(resolve));
  }
}

// `setup` (subscribe, start the pool's threads) runs before sampling: the figures are steady state.
async function measure(setup) {
  const bus = new Bus();
  const run = await setup(bus);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const started = performance.now();
  await run(bus);
  const seconds = (performance.now() - started) / 1000;
  histogram.disable();
  await bus.stop();
  return { perSecond: EVENTS / seconds, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 };
}

async function onMainThread(rounds) {
  return measure(async (bus) => {
    const subscription = await bus.subscribe("job", "hash");
    return async () => {
      const publishing = publish(bus, rounds);
      let done = 0;
      for await (const event of subscription) {
        work(event.data.seed, event.data.rounds);
        if (++done === EVENTS) break;
      }
      await publishing;
    };
  });
}

async function inPool(rounds) {
  return measure(async (bus) => {
    let done = 0;
    let finish;
    const finished = new Promise((resolve) => {
      finish = resolve;
    });
    const count = () => {
      if (++done === EVENTS) finish();
    };
    const pool = await subscribePool(bus, "job", "hash", {
      filename: TASK_FILE,
      pool: { minThreads: THREADS, maxThreads: THREADS },
      bufferSize: 64,
      onResult: count,
      onError: (event, error) => {
        console.error(event.path, error);
        count();
      },
    });
    // Wait until both threads are up, so thread start-up is not measured.
    while (pool.pool.threads.length < THREADS) await new Promise((resolve) => setTimeout(resolve, 5));
    return async () => {
      await publish(bus, rounds);
      await finished;
      await pool.close();
    };
  });
}

console.log(
  `node ${process.version}, ${EVENTS} events, pool of ${THREADS} threads; loop delay sampled every 1 ms`,
);
console.log("handler cost   where           events/s   loop delay p99   max");
for (const targetMs of [0.2, 1, 5]) {
  const rounds = roundsFor(targetMs);
  for (const [where, run] of [
    ["main thread", onMainThread],
    ["pool", inPool],
  ]) {
    const figures = await run(rounds);
    console.log(
      `${`${targetMs} ms`.padEnd(14)} ${where.padEnd(15)} ${figures.perSecond.toFixed(0).padStart(8)}   ${figures.p99.toFixed(2).padStart(11)} ms   ${figures.max.toFixed(1)} ms`,
    );
  }
}
