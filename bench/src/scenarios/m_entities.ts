import type { WorkerBus } from "@threadbus/worker";
import type { Extra } from "../results_schema.js";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";
import { EntityThreads } from "../subjects/entity_threads.js";
import { startWorkerBus } from "../subjects/worker_bus.js";

const SUBSCRIBER_THREADS = 4;
const PUBLISHER_THREADS = 2;

export const entitiesScenario: Scenario = {
  id: "m-entities",
  title: "per-entity subscriptions on worker threads: 4 threads x 25,000 entities",
  measures:
    "Events/s from 2 publisher worker threads to 4 subscriber worker threads holding 25,000 entities each (2,500 with --quick), every event sent to a pseudo-random entity (chat / message, path user/<id>, data the entity number), timed from the start until every subscriber thread has every event of its entities; afterwards each entity must have received exactly the events sent to it, and none of another (the case fails otherwise). threadbus: every thread attach()es to one WorkerBus; each entity is its own subscription with a literal path filter, drained by its own for await, as a WebSocket server holds one per connection; publishers send() with the ring's back-pressure. Beside it: the RSS per subscription (process RSS before and after the 4 threads subscribed all their entities, both sides of the bus included, no gc), and subscribe + close per second from one thread, as batches (Promise.all of 10,000 subscribes, then of their closes) and one at a time (await subscribe, await close). Peer, what a user writes by hand: each subscriber thread keeps a Map<path, handler> of its entities; publishers post every event, in arrays of 64, on one BroadcastChannel that every thread receives, and each thread looks its entities up; subscribers acknowledge on a second channel, publishers staying within 128 batches of the slowest.",
  async run(recorder: CaseRecorder) {
    const perThread = recorder.quick ? 2_500 : 25_000;
    const events = recorder.quick ? 40_000 : 400_000;
    const entities = perThread * SUBSCRIBER_THREADS;
    const target = recorder.case(
      "m-entities",
      `${SUBSCRIBER_THREADS} threads x ${perThread.toLocaleString("en")} entities, ${events.toLocaleString("en")} events from ${PUBLISHER_THREADS} publisher threads`,
    );
    const timed = async (threads: EntityThreads, extra: Extra[] = []) => {
      const started = nowNs();
      await threads.run(events);
      return { value: events / ((nowNs() - started) / 1e9), extra };
    };
    await recorder.subject(target, {
      subject: "threadbus WorkerBus + attach(), a subscription per entity",
      threadbus: true,
      unit: "events/s",
      async setup() {
        // The churn figure subscribes 10,000 more on top of the 100,000 entities (the default cap).
        const bus = await startWorkerBus({ maxSubscribers: 2 * entities });
        let threads: EntityThreads | null = null;
        try {
          threads = await EntityThreads.start(SUBSCRIBER_THREADS, PUBLISHER_THREADS, perThread);
          await threads.attach(bus);
          const rssBefore = process.memoryUsage().rss;
          await threads.subscribe();
          const rssPerSubscription = (process.memoryUsage().rss - rssBefore) / entities;
          const churn = await threads.churn(recorder.quick ? 2_000 : 10_000);
          const extra: Extra[] = [
            { name: "RSS per subscription", value: rssPerSubscription, unit: "bytes" },
            {
              name: "subscribe + close, batches, one thread",
              value: churn.batchedPerSecond,
              unit: "events/s",
            },
            { name: "subscribe + close, one at a time", value: churn.sequentialPerSecond, unit: "events/s" },
          ];
          return { bus, threads, extra };
        } catch (error) {
          await threads?.close();
          await bus.stop();
          throw error;
        }
      },
      warmup: ({ threads }) => threads.run(events / 4),
      repeat: ({ threads, extra }) => timed(threads, extra),
      teardown: ({ bus, threads }) => stopAll(bus, threads),
    });
    await recorder.subject(target, {
      subject: "BroadcastChannel + Map<path, handler> by hand, batches of 64",
      threadbus: false,
      unit: "events/s",
      async setup() {
        const threads = await EntityThreads.start(SUBSCRIBER_THREADS, PUBLISHER_THREADS, perThread);
        try {
          await threads.broadcast(`threadbus-m-${process.pid}`);
        } catch (error) {
          await threads.close();
          throw error;
        }
        return threads;
      },
      warmup: (threads) => threads.run(events / 4),
      repeat: (threads) => timed(threads),
      teardown: async (threads) => {
        await threads.detach();
        await threads.close();
      },
    });
  },
};

/** Detach every thread, then stop the bus; a failed detach must not leave workers or the bus behind. */
async function stopAll(bus: WorkerBus, threads: EntityThreads): Promise<void> {
  try {
    await threads.detach();
  } finally {
    await threads.close();
    await bus.stop();
  }
}
