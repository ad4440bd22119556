import { Bus } from "@threadbus/core";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { collectGarbage } from "../stats.js";
import { Counter } from "../subjects/counter.js";
import { type Emitter, eventEmitter2, eventEmitter3 } from "../subjects/emitters.js";
import { publish } from "../subjects/publish.js";

function heapAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

export const memoryScenario: Scenario = {
  id: "g-memory",
  title: "heap growth over many events",
  measures:
    "Bytes of heap still in use (process.memoryUsage().heapUsed after a full global.gc()) after publishing the events, minus the same figure before: what a long-running process keeps per run. Near zero (within a few hundred KiB of GC noise) means nothing accumulates per event. One subscriber of the exact name; threadbus drains it with for await.",
  async unavailable() {
    return collectGarbage() ? null : "needs node --expose-gc (the bench script passes it)";
  },
  async run(recorder: CaseRecorder) {
    const count = recorder.quick ? 1_000_000 : 10_000_000;
    const target = recorder.case("g-memory", `${(count / 1e6).toFixed(0)}M events, 1 subscriber`);
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
  },
};
