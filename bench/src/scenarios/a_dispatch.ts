import { Bus } from "@threadbus/core";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";
import { Counter, THREADBUS_CONSUMERS } from "../subjects/counter.js";
import { type Emitter, eventEmitter2, eventEmitter3, nodeEventEmitter } from "../subjects/emitters.js";
import { publish } from "../subjects/publish.js";

export const dispatchScenario: Scenario = {
  id: "a-dispatch",
  title: "in-thread dispatch, 1 exact subscriber",
  measures:
    "Events/s published on one thread and received by one subscriber of that exact name. threadbus: send() in a loop (flush every 1024), the subscriber drains its Subscription with for await (threadbus Bus) or gets a callback per event through a Subscriber, which takes buffered events in batches (threadbus Subscriber); time from the first send to the last event received. Emitters: emit() in a loop with a counting listener (synchronous, so this is the raw in-thread ceiling).",
  async run(recorder: CaseRecorder) {
    const count = recorder.quick ? 200_000 : 2_000_000;
    const target = recorder.case("a-dispatch", `1 exact subscriber, ${count.toLocaleString("en")} events`);
    for (const { subject, via } of THREADBUS_CONSUMERS) {
      await recorder.subject(target, {
        subject,
        threadbus: true,
        unit: "events/s",
        async setup() {
          const bus = new Bus();
          return { bus, counter: await Counter.start(bus, "orders", "created", via) };
        },
        warmup: async ({ bus, counter }) => {
          await publish(bus, 100_000, (seq) => ({
            system: "orders",
            kind: "created",
            path: "o/1",
            data: seq,
          }));
          await counter.until(100_000);
        },
        async repeat({ bus, counter }) {
          const goal = counter.count + count;
          const started = nowNs();
          await publish(bus, count, (seq) => ({ system: "orders", kind: "created", path: "o/1", data: seq }));
          await counter.until(goal);
          return { value: count / ((nowNs() - started) / 1e9) };
        },
        teardown: ({ bus }) => bus.stop(),
      });
    }
    for (const make of [eventEmitter2, eventEmitter3, nodeEventEmitter]) {
      await recorder.subject(target, {
        subject: make().name,
        threadbus: false,
        unit: "events/s",
        setup: () => countingEmitter(make()),
        warmup: async (state) => void emitLoop(state.emitter, 100_000),
        repeat(state) {
          const before = state.received();
          const started = nowNs();
          emitLoop(state.emitter, count);
          const elapsed = nowNs() - started;
          if (state.received() - before !== count) throw new Error(`${state.emitter.name} lost events`);
          return { value: count / (elapsed / 1e9) };
        },
      });
    }
  },
};

function countingEmitter(emitter: Emitter): { emitter: Emitter; received: () => number } {
  let received = 0;
  emitter.on("orders.created", () => {
    received++;
  });
  return { emitter, received: () => received };
}

function emitLoop(emitter: Emitter, count: number): void {
  for (let seq = 0; seq < count; seq++) {
    emitter.emit("orders.created", { system: "orders", kind: "created", path: "o/1", data: seq });
  }
}
