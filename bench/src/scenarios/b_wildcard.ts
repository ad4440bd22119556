import { Bus } from "@threadbus/core";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";
import { allReach, Counter, THREADBUS_CONSUMERS } from "../subjects/counter.js";
import { eventEmitter2 } from "../subjects/emitters.js";
import { publish } from "../subjects/publish.js";

/**
 * The 10 subscriptions that match `orders` / `created`, as threadbus (system, kind) filters and
 * the equivalent EventEmitter2 names (system and kind joined by the same "." delimiter).
 */
const MATCHING: readonly { system: string; kind: string; ee2: string }[] = [
  { system: "orders", kind: "created", ee2: "orders.created" },
  { system: "orders", kind: "created", ee2: "orders.created" },
  { system: "orders", kind: "*", ee2: "orders.*" },
  { system: "orders", kind: "*", ee2: "orders.*" },
  { system: "*", kind: "created", ee2: "*.created" },
  { system: "*", kind: "created", ee2: "*.created" },
  { system: "*", kind: "*", ee2: "*.*" },
  { system: "orders", kind: "**", ee2: "orders.**" },
  { system: "**", kind: "created", ee2: "**.created" },
  { system: "**", kind: "**", ee2: "**" },
];

/** The 990 that do not: per-service filters of the same three shapes, on other systems. */
function nonMatching(count: number): { system: string; kind: string; ee2: string }[] {
  const out = [];
  for (let i = 0; i < count; i++) {
    const system = `svc${i}`;
    if (i % 3 === 0) out.push({ system, kind: "created", ee2: `${system}.created` });
    else if (i % 3 === 1) out.push({ system, kind: "*", ee2: `${system}.*` });
    else out.push({ system, kind: "**", ee2: `${system}.**` });
  }
  return out;
}

export const wildcardScenario: Scenario = {
  id: "b-wildcard",
  title: "1,000 wildcard subscriptions, 10 match",
  measures:
    "Events/s published to 1,000 subscriptions (literal, * and ** filters) of which 10 match each event, so every event is delivered 10 times. threadbus: send() in a loop, 10 subscribers drain their Subscriptions with for await (threadbus Bus) or through callback Subscribers (threadbus Subscriber), timed until all 10 received the last event. EventEmitter2 in wildcard mode: emit() in a loop, 10 counting listeners fire.",
  async run(recorder: CaseRecorder) {
    const count = recorder.quick ? 50_000 : 500_000;
    const others = nonMatching(1000 - MATCHING.length);
    const target = recorder.case(
      "b-wildcard",
      `1,000 subscriptions, 10 match, ${count.toLocaleString("en")} events`,
    );
    const makeEvent = (seq: number) => ({ system: "orders", kind: "created", path: "o/1", data: seq });
    for (const { subject, via } of THREADBUS_CONSUMERS) {
      await recorder.subject(target, {
        subject,
        threadbus: true,
        unit: "events/s",
        async setup() {
          const bus = new Bus();
          const counters: Counter[] = [];
          for (const f of MATCHING) counters.push(await Counter.start(bus, f.system, f.kind, via));
          // Never iterated: they match nothing, so their buffers stay empty.
          for (const f of others) await bus.subscribe(f.system, f.kind);
          return { bus, counters };
        },
        warmup: async ({ bus, counters }) => {
          await publish(bus, 20_000, makeEvent);
          await allReach(counters, 20_000);
        },
        async repeat({ bus, counters }) {
          const goal = counters[0]!.count + count;
          const started = nowNs();
          await publish(bus, count, makeEvent);
          await allReach(counters, goal);
          return { value: count / ((nowNs() - started) / 1e9) };
        },
        teardown: ({ bus }) => bus.stop(),
      });
    }
    await recorder.subject(target, {
      subject: "EventEmitter2 (wildcard)",
      threadbus: false,
      unit: "events/s",
      setup() {
        const emitter = eventEmitter2();
        let received = 0;
        for (const f of MATCHING)
          emitter.on(f.ee2, () => {
            received++;
          });
        for (const f of others) emitter.on(f.ee2, () => {});
        return { emitter, received: () => received };
      },
      warmup: async ({ emitter }) => {
        for (let seq = 0; seq < 20_000; seq++) emitter.emit("orders.created", makeEvent(seq));
      },
      repeat({ emitter, received }) {
        const before = received();
        const started = nowNs();
        for (let seq = 0; seq < count; seq++) emitter.emit("orders.created", makeEvent(seq));
        const elapsed = nowNs() - started;
        const got = received() - before;
        if (got !== count * MATCHING.length)
          throw new Error(`EventEmitter2 delivered ${got}, expected ${count * 10}`);
        return { value: count / (elapsed / 1e9) };
      },
    });
  },
};
