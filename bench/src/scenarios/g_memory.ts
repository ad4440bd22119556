import { Bus } from "@threadbus/core";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { collectGarbage } from "../stats.js";
import { Counter } from "../subjects/counter.js";
import { type Emitter, eventEmitter2, eventEmitter3 } from "../subjects/emitters.js";
import { DataReader } from "../subjects/payload.js";
import { publish, publishWindowed } from "../subjects/publish.js";
import { startWorkerBus } from "../subjects/worker_bus.js";

function heapAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

export const memoryScenario: Scenario = {
  id: "g-memory",
  title: "heap growth over many events",
  measures:
    "Bytes of heap still in use (process.memoryUsage().heapUsed after a full global.gc()) after publishing the events, minus the same figure before: what a long-running process keeps per run. Near zero (within a few hundred KiB of GC noise) means nothing accumulates per event. One subscriber of the exact name; threadbus drains it with for await. The WorkerBus case publishes and subscribes on the main thread (its heap is the one measured; the dispatcher worker's heap is not visible through the public API), the consumer reads every event's data, at most 8,192 events in flight.",
  async unavailable() {
    return collectGarbage() ? null : "needs node --expose-gc (the bench script passes it)";
  },
  async run(recorder: CaseRecorder) {
    const count = recorder.quick ? 1_000_000 : 10_000_000;
    const target = recorder.case("g-memory", `${formatCount(count)} events, 1 subscriber`);
    const makeEvent = (seq: number) => ({ system: "orders", kind: "created", path: "o/1", data: seq });
    await recorder.subject(target, {
      subject: "threadbus Bus",
      threadbus: true,
      unit: "bytes",
      async setup() {
        const bus = new Bus();
        return { bus, counter: new Counter(await bus.subscribe("orders", "created")) };
      },
      warmup: async ({ bus, counter }) => {
        await publish(bus, 100_000, makeEvent);
        await counter.until(100_000);
      },
      async repeat({ bus, counter }) {
        const goal = counter.count + count;
        const before = heapAfterGc();
        await publish(bus, count, makeEvent);
        await counter.until(goal);
        return { value: heapAfterGc() - before };
      },
      teardown: ({ bus }) => bus.stop(),
    });
    for (const make of [eventEmitter2, eventEmitter3]) {
      await recorder.subject(target, {
        subject: make().name,
        threadbus: false,
        unit: "bytes",
        setup() {
          const emitter: Emitter = make();
          emitter.on("orders.created", () => {});
          return emitter;
        },
        warmup: async (emitter) => {
          for (let seq = 0; seq < 100_000; seq++) emitter.emit("orders.created", makeEvent(seq));
        },
        repeat(emitter) {
          const before = heapAfterGc();
          for (let seq = 0; seq < count; seq++) emitter.emit("orders.created", makeEvent(seq));
          return { value: heapAfterGc() - before };
        },
      });
    }
    await measureWorkerBus(recorder);
  },
};

async function measureWorkerBus(recorder: CaseRecorder): Promise<void> {
  // The WorkerBus moves ~0.3-1 M events/s on 2 cores: 10M events take 10-30 s a repeat, so the
  // quick run sends fewer (and says how many in its label).
  const count = recorder.quick ? 200_000 : 10_000_000;
  const target = recorder.case(
    "g-memory-worker-bus",
    `${formatCount(count)} events through the WorkerBus, main -> dispatcher -> main`,
  );
  const makeEvent = (seq: number) => ({ system: "orders", kind: "created", path: "o/1", data: { seq } });
  await recorder.subject(target, {
    subject: "threadbus WorkerBus",
    threadbus: true,
    unit: "bytes",
    async setup() {
      const bus = await startWorkerBus({ onFull: "throw" });
      const reader = new DataReader();
      return { bus, counter: new Counter(await bus.subscribe("orders", "created"), reader.readObject) };
    },
    warmup: async ({ bus, counter }) => {
      const goal = counter.count + 100_000;
      await publishWindowed(bus, 100_000, makeEvent, counter);
      await counter.until(goal);
    },
    async repeat({ bus, counter }) {
      const goal = counter.count + count;
      const before = heapAfterGc();
      await publishWindowed(bus, count, makeEvent, counter);
      await counter.until(goal);
      return { value: heapAfterGc() - before };
    },
    teardown: ({ bus }) => bus.stop(),
  });
}

/** 200000 -> "200k", 10000000 -> "10M". */
function formatCount(count: number): string {
  return count >= 1e6 ? `${count / 1e6}M` : `${count / 1e3}k`;
}
