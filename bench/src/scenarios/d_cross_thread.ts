import type { CaseRecorder, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";
import { Counter } from "../subjects/counter.js";
import { EchoChannel, echoThroughput } from "../subjects/echo_channel.js";
import { makeBody, orderEvent } from "../subjects/payload.js";
import { publish } from "../subjects/publish.js";
import { startWorkerBus } from "../subjects/worker_bus.js";

export const crossThreadScenario: Scenario = {
  id: "d-cross-thread",
  title: "cross-thread throughput, main -> dispatcher -> subscriber",
  measures:
    "Events/s from a publisher on the main thread to a subscriber on the main thread through another thread, timed from the first send to the last event received. threadbus WorkerBus: send() into the shared ring, the dispatcher worker routes, the subscriber drains its Subscription with for await. Peers: postMessage to an echo worker and back, one message per event (plain) or arrays of 64 events (batched by hand); both keep at most 8,192 events in flight. Payload: { seq, body } of about 64 B or 1 KiB as JSON.",
  async run(recorder: CaseRecorder) {
    const count = recorder.quick ? 30_000 : 300_000;
    for (const bytes of [64, 1024]) {
      const body = makeBody(bytes);
      const makeEvent = (seq: number) => orderEvent(seq, body);
      const label = bytes === 64 ? "64 B" : "1 KiB";
      const target = recorder.case(
        `d-cross-thread-${bytes}`,
        `${label} payload, ${count.toLocaleString("en")} events`,
      );
      await recorder.subject(target, {
        subject: "threadbus WorkerBus",
        threadbus: true,
        unit: "events/s",
        async setup() {
          const bus = await startWorkerBus();
          return { bus, counter: new Counter(await bus.subscribe("orders", "created")) };
        },
        warmup: async ({ bus, counter }) => {
          await publish(bus, 20_000, makeEvent);
          await counter.until(20_000);
        },
        async repeat({ bus, counter }) {
          const goal = counter.count + count;
          const started = nowNs();
          await publish(bus, count, makeEvent);
          await counter.until(goal);
          return { value: count / ((nowNs() - started) / 1e9) };
        },
        teardown: ({ bus }) => bus.stop(),
      });
      for (const batch of [1, 64]) {
        await recorder.subject(target, {
          subject: batch === 1 ? "postMessage, 1 event per message" : "postMessage, batches of 64",
          threadbus: false,
          unit: "events/s",
          setup: () => EchoChannel.start(),
          warmup: (channel) => echoThroughput(channel, 20_032, batch, makeEvent),
          repeat: async (channel) => ({ value: await echoThroughput(channel, count, batch, makeEvent) }),
          teardown: (channel) => channel.close(),
        });
      }
    }
  },
};
