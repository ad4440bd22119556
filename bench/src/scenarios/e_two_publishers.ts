import type { CaseRecorder, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";
import { Counter } from "../subjects/counter.js";
import { makeBody } from "../subjects/payload.js";
import { PublisherThreads } from "../subjects/publisher_threads.js";
import { startWorkerBus } from "../subjects/worker_bus.js";

export const twoPublishersScenario: Scenario = {
  id: "e-two-publishers",
  title: "2 publisher workers, 1 subscriber on the main thread",
  measures:
    'Events/s from two publisher worker threads to one subscriber on the main thread, timed from the start message until every event arrived. threadbus: each worker attach()es to the WorkerBus and send()s into the shared ring with nothing but its back-pressure (onFull "wait" blocks a worker while the ring is full; no flush() round trips); the dispatcher routes to the main-thread Subscription. Peers: each worker postMessages straight to the main thread (one hop, no router: a lower bar than the bus\'s two hops), one event per message or arrays of 64, at most 8,192 in flight per worker. Payload about 64 B.',
  async run(recorder: CaseRecorder) {
    const total = recorder.quick ? 40_000 : 400_000;
    const body = makeBody(64);
    const target = recorder.case(
      "e-two-publishers",
      `2 publishers, ${total.toLocaleString("en")} events in total`,
    );
    await recorder.subject(target, {
      subject: "threadbus WorkerBus + attach()",
      threadbus: true,
      unit: "events/s",
      async setup() {
        const bus = await startWorkerBus();
        const counter = new Counter(await bus.subscribe("orders", "created"));
        const threads = await PublisherThreads.start(2);
        try {
          // Each thread needs its own handle; its MessagePort must be transferred.
          await threads.request((_i: number) => {
            const handle = bus.handle();
            return { message: { attach: handle }, transfer: [handle.port] };
          }, "attached");
        } catch (error) {
          await threads.close();
          await bus.stop();
          throw error;
        }
        return { bus, counter, threads };
      },
      warmup: async ({ counter, threads }) => {
        const goal = counter.count + 20_000;
        await threads.run({ mode: "threadbus", count: 10_000, body }, () => counter.until(goal));
      },
      async repeat({ counter, threads }) {
        const goal = counter.count + total;
        const started = nowNs();
        await threads.run({ mode: "threadbus", count: total / 2, body }, () => counter.until(goal));
        return { value: total / ((nowNs() - started) / 1e9) };
      },
      async teardown({ bus, threads }) {
        await threads.close();
        await bus.stop();
      },
    });
    for (const mode of ["plain", "batched"] as const) {
      await recorder.subject(target, {
        subject: mode === "plain" ? "postMessage, 1 event per message" : "postMessage, batches of 64",
        threadbus: false,
        unit: "events/s",
        setup: () => PublisherThreads.start(2),
        warmup: (threads) => threads.run({ mode, count: 10_048, body }, () => threads.receivedAll(20_096)),
        async repeat(threads) {
          const started = nowNs();
          await threads.run({ mode, count: total / 2, body }, () => threads.receivedAll(total));
          return { value: total / ((nowNs() - started) / 1e9) };
        },
        teardown: (threads) => threads.close(),
      });
    }
  },
};
