import { fileURLToPath } from "node:url";
import { Bus } from "@threadbus/core";
import { Piscina } from "piscina";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { Unavailable } from "../scenario.js";
import { nowNs } from "../stats.js";
import { publish } from "../subjects/publish.js";
import { loadWorkerModule } from "../subjects/worker_bus.js";

type WorkerModule = typeof import("@threadbus/worker");

const TASK_FILE = fileURLToPath(new URL("../workers/cpu_task.js", import.meta.url));
const THREADS = 2;
/** Tasks in flight at most in the raw piscina peer: the same bound as the pool subscription's buffer. */
const IN_FLIGHT = 1024;

async function loadSubscribePool(): Promise<WorkerModule["subscribePool"]> {
  return (await loadWorkerModule()).subscribePool;
}

export const poolScenario: Scenario = {
  id: "h-pool",
  title: "CPU-isolated handlers: a subscription feeding a piscina pool",
  measures: `Tasks/s completed by a ${THREADS}-thread piscina pool, one task per event. threadbus: subscribePool() on the in-thread Bus, send() in a loop, timed until the last result. Peer: piscina's pool.run() called directly with at most ${IN_FLIGHT} tasks in flight (what a user writes without the bus). subscribePool hands piscina a task only when a thread is free (it keeps FIFO order and abortable tasks), so with empty tasks it pays a round trip per task where the peer keeps piscina's queue full. Empty tasks show the per-event overhead; ~20 µs tasks show the pool at work.`,
  async unavailable() {
    try {
      await loadSubscribePool();
      return null;
    } catch (error) {
      if (error instanceof Unavailable) return error.message;
      throw error;
    }
  },
  async run(recorder: CaseRecorder) {
    const subscribePool = await loadSubscribePool();
    for (const { spin, label, count } of [
      { spin: 0, label: "empty task", count: recorder.quick ? 4_000 : 20_000 },
      { spin: 1_500, label: "~20 µs task", count: recorder.quick ? 5_000 : 50_000 },
    ]) {
      const makeEvent = (seq: number) => ({
        system: "jobs",
        kind: "run",
        path: `job/${seq}`,
        data: { spin },
      });
      const target = recorder.case(
        `h-pool-${spin === 0 ? "empty" : "cpu"}`,
        `${label}, ${count.toLocaleString("en")} events`,
      );
      await recorder.subject(target, {
        subject: "threadbus subscribePool",
        threadbus: true,
        unit: "events/s",
        async setup() {
          const bus = new Bus();
          let completed = 0;
          let failure: unknown = null;
          const pool = await subscribePool(bus, "jobs", "run", {
            filename: TASK_FILE,
            pool: { minThreads: THREADS, maxThreads: THREADS },
            onResult: () => {
              completed++;
            },
            onError: (_event, error) => {
              failure = error;
            },
          });
          const waitFor = async (goal: number) => {
            while (completed < goal) {
              if (failure) throw failure;
              await new Promise((resolve) => setTimeout(resolve, 1));
            }
          };
          return { bus, pool, completed: () => completed, waitFor };
        },
        warmup: async ({ bus, completed, waitFor }) => {
          const goal = completed() + 2_000;
          await publish(bus, 2_000, makeEvent);
          await waitFor(goal);
        },
        async repeat({ bus, completed, waitFor }) {
          const goal = completed() + count;
          const started = nowNs();
          await publish(bus, count, makeEvent);
          await waitFor(goal);
          return { value: count / ((nowNs() - started) / 1e9) };
        },
        async teardown({ bus, pool }) {
          await pool.close();
          await bus.stop();
        },
      });
      await recorder.subject(target, {
        subject: "piscina pool.run() directly",
        threadbus: false,
        unit: "events/s",
        setup: () => new Piscina({ filename: TASK_FILE, minThreads: THREADS, maxThreads: THREADS }),
        warmup: (pool) => runDirect(pool, 2_000, makeEvent),
        repeat: async (pool) => ({ value: await runDirect(pool, count, makeEvent) }),
        teardown: (pool) => pool.close(),
      });
    }
  },
};

async function runDirect(pool: Piscina, count: number, makeEvent: (seq: number) => unknown): Promise<number> {
  const started = nowNs();
  let running = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const settled = () => {
    running--;
    const resume = wake;
    wake = null;
    resume?.();
  };
  const failed = (error: unknown) => {
    failure = error;
    settled();
  };
  for (let seq = 0; seq < count; seq++) {
    while (running >= IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
    running++;
    pool.run(makeEvent(seq)).then(settled, failed);
  }
  while (running > 0) await new Promise<void>((resolve) => (wake = resolve));
  if (failure) throw failure;
  return count / ((nowNs() - started) / 1e9);
}
