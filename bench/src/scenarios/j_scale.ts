import os from "node:os";
import type { WorkerBus } from "@threadbus/worker";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";
import { scaleEvents } from "../subjects/catalogue.js";
import { makeBody } from "../subjects/payload.js";
import { ScaleThreads } from "../subjects/scale_threads.js";
import { startWorkerBus } from "../subjects/worker_bus.js";

/** Publisher x subscriber worker counts, in the order they run. */
export const SCALE_SHAPES: ReadonlyArray<{ publishers: number; subscribers: number }> = [
  { publishers: 1, subscribers: 1 },
  { publishers: 4, subscribers: 1 },
  { publishers: 1, subscribers: 4 },
  { publishers: 4, subscribers: 4 },
  { publishers: 8, subscribers: 4 },
];

/**
 * The case label of one shape. The bus keeps P + S + 1 threads busy (its dispatcher too), the
 * hand-written fan-out P + S; a shape needing more than the machine's cores still runs, marked
 * "oversubscribed", because its figures then measure scheduling as much as the bus.
 */
export function scaleLabel(publishers: number, subscribers: number, events: number, cores: number): string {
  const busy = publishers + subscribers + 1;
  const base = `${publishers}x${subscribers}: ${publishers} publisher${publishers > 1 ? "s" : ""} x ${subscribers} subscriber${subscribers > 1 ? "s" : ""}, ${events.toLocaleString("en")} events in`;
  return busy > cores ? `${base} (oversubscribed: ${busy} busy threads on ${cores} cores)` : base;
}

export const scaleScenario: Scenario = {
  id: "j-scale",
  title: "P publisher workers x S subscriber workers, every subscriber receives every event",
  measures:
    "Events in per second (all publishers together) from P publisher worker threads to S subscriber worker threads, each subscriber receiving every event, timed from the start message until every subscriber has every event; deliveries/s (events in x S) beside it. Every subscriber reads each event's data and checks that each publisher's events arrive in order, without gaps (a broken order fails the scenario). threadbus: every thread attach()es to one WorkerBus; publishers send() with the ring's back-pressure (onFull \"wait\"), subscribers consume orders.created with a callback Subscriber. Peer, the fan-out written by hand: each publisher holds a MessagePort to every subscriber worker and posts each array of 64 events to every one of them, keeping at most 8,192 events unacknowledged by the slowest. Peer, BroadcastChannel (Node's built-in): publishers post arrays of 64 events on one named channel, which every thread holding that name receives and decodes, publishers included; subscribers acknowledge on a second channel, within the same 8,192-event window. The catalogued bus subject starts the bus and attaches every thread with a catalogue of the event (compiled codec). Payload about 64 B. Each subject first runs for 3 s untimed (0.5 s with --quick, whose figures include warm-up: up to 13 threads compiling their hot paths on a small machine). Shapes needing more threads than the machine has cores (the bus: P + S + 1 with its dispatcher) are marked oversubscribed; their figures measure the scheduler as much as the bus.",
  async run(recorder: CaseRecorder) {
    const events = recorder.quick ? 8_000 : 320_000;
    const cores = os.availableParallelism();
    const body = makeBody(64);
    for (const { publishers, subscribers } of SCALE_SHAPES) {
      const target = recorder.case(
        `j-scale-${publishers}x${subscribers}`,
        scaleLabel(publishers, subscribers, events, cores),
      );
      const perPublisher = events / publishers;
      const warmupChunk = Math.ceil(perPublisher / 8);
      // Every thread's hot path must be compiled before timing. Measured at 4x4 on 2 loaded cores,
      // runs of 4,000 events: the bus moved 4-7k events/s for its first ~1.5 s and 100-140k/s after
      // ~3 s; the fan-out by hand 11-57k/s at first, 60-110k/s later. Scheduling, not an event
      // count, sets how long that takes, so the warm-up runs for a set time: 3 s in a full run;
      // 0.5 s in a quick one, whose figures stay cold.
      const warmup = async (threads: ScaleThreads) => {
        const until = performance.now() + (recorder.quick ? 500 : 3_000);
        do await threads.run(warmupChunk, body);
        while (performance.now() < until);
      };
      const timed = async (threads: ScaleThreads) => {
        const started = nowNs();
        await threads.run(perPublisher, body);
        const seconds = (nowNs() - started) / 1e9;
        return {
          value: events / seconds,
          extra: [{ name: "deliveries", value: (events * subscribers) / seconds, unit: "events/s" as const }],
        };
      };
      for (const catalogued of [false, true]) {
        await recorder.subject(target, {
          subject: catalogued
            ? "threadbus WorkerBus catalogued + attach()"
            : "threadbus WorkerBus + attach()",
          threadbus: true,
          unit: "events/s",
          async setup() {
            const bus = await startWorkerBus(catalogued ? { events: scaleEvents } : {});
            let threads: ScaleThreads | null = null;
            try {
              threads = await ScaleThreads.start(publishers, subscribers);
              await threads.attach(bus, catalogued);
              return { bus, threads };
            } catch (error) {
              await threads?.close();
              await bus.stop();
              throw error;
            }
          },
          warmup: ({ threads }) => warmup(threads),
          repeat: ({ threads }) => timed(threads),
          teardown: ({ bus, threads }) => stopAll(bus, threads),
        });
      }
      await recorder.subject(target, {
        subject: "postMessage fan-out by hand, batches of 64",
        threadbus: false,
        unit: "events/s",
        async setup() {
          const threads = await ScaleThreads.start(publishers, subscribers);
          try {
            await threads.connect();
          } catch (error) {
            await threads.close();
            throw error;
          }
          return threads;
        },
        warmup: (threads) => warmup(threads),
        repeat: (threads) => timed(threads),
        teardown: (threads) => threads.close(),
      });
      await recorder.subject(target, {
        subject: "BroadcastChannel, batches of 64",
        threadbus: false,
        unit: "events/s",
        async setup() {
          const threads = await ScaleThreads.start(publishers, subscribers);
          try {
            await threads.broadcast(`threadbus-j-${process.pid}-${publishers}x${subscribers}`);
          } catch (error) {
            await threads.close();
            throw error;
          }
          return threads;
        },
        warmup: (threads) => warmup(threads),
        repeat: (threads) => timed(threads),
        teardown: async (threads) => {
          await threads.detach();
          await threads.close();
        },
      });
    }
  },
};

/** Detach every thread, then stop the bus; a failed detach must not leave workers or the bus behind. */
async function stopAll(bus: WorkerBus, threads: ScaleThreads): Promise<void> {
  try {
    await threads.detach();
  } finally {
    await threads.close();
    await bus.stop();
  }
}
