import { Bus, type EventBus } from "@threadbus/core";
import type * as hdr from "hdr-histogram-js";
import type { Extra } from "../results_schema.js";
import type { CaseRecorder, Sample, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";
import { Counter } from "../subjects/counter.js";
import { EchoChannel } from "../subjects/echo_channel.js";
import { eventEmitter3 } from "../subjects/emitters.js";
import { latencyHistogram, latencySample, offerAtRate } from "../subjects/pacer.js";
import { dispatcherCpuMs, startWorkerBus } from "../subjects/worker_bus.js";

const BATCH = 64;

export const latencyScenario: Scenario = {
  id: "f-latency",
  title: "latency percentiles at fixed offered rates",
  measures:
    "Microseconds from an event's intended send time to its arrival at the subscriber (hdr-histogram-js, corrected for coordinated omission), events offered at a fixed rate from the main thread; headline is the p50, p99 beside it. The pacer floor records each event at the moment the pacing loop sends it, with no subject at all: how precisely the loop keeps time, the least any subject can show. In-thread: threadbus Bus, and eventemitter3 (synchronous: its listener runs inside emit()). Ratios compare in-thread with in-thread and cross-thread with cross-thread only. Cross-thread round trip back to the main thread: threadbus WorkerBus; postMessage to an echo worker, one per event; and hand-batched postMessage (up to 64 per message, flushed every event-loop turn). Beside each cross-thread subject, the CPU share of the thread in the middle over the repeat (offering and draining): the WorkerBus dispatcher from inspect().dispatcherCpuMs, the echo worker from threadCpuMs() (both read /proc/thread-self/stat: 10 ms ticks, so a short quick-mode repeat is coarse). The main thread paces in a loop that never sleeps, so its own CPU says nothing and is not shown.",
  async run(recorder: CaseRecorder) {
    const rates = recorder.quick ? [1_000, 10_000] : [1_000, 10_000, 50_000];
    const durationMs = recorder.quick ? 300 : 1_000;
    for (const rate of rates) {
      const target = recorder.case(
        `f-latency-${rate / 1000}k`,
        `${rate.toLocaleString("en")} events/s offered`,
      );
      const offer = (send: (intendedNs: number) => void, endOfTurn?: () => void) =>
        offerAtRate(rate, durationMs, send, endOfTurn);
      const warmupMs = Math.min(durationMs, 300);
      await recorder.subject(target, {
        subject: "pacer floor (no subject)",
        threadbus: false,
        group: "pacer",
        unit: "µs",
        setup: () => latencyHistogram(),
        warmup: (histogram) => offerAtRate(rate, warmupMs, (t) => histogram.recordValue(nowNs() - t)),
        async repeat(histogram) {
          histogram.reset();
          await offer((t) => histogram.recordValue(nowNs() - t));
          return latencySample(histogram);
        },
      });
      await recorder.subject(target, {
        subject: "threadbus Bus",
        threadbus: true,
        group: "in-thread",
        unit: "µs",
        setup: () => busSubject(new Bus()),
        warmup: (s) => s.measure((send) => offerAtRate(rate, warmupMs, send)),
        repeat: (s) => s.measure(offer),
        teardown: (s) => s.bus.stop(),
      });
      await recorder.subject(target, {
        subject: "threadbus WorkerBus",
        threadbus: true,
        group: "cross-thread",
        unit: "µs",
        setup: async () => busSubject(await startWorkerBus()),
        warmup: (s) => s.measure((send) => offerAtRate(rate, warmupMs, send)),
        repeat: (s) =>
          withCpu(
            "dispatcher CPU",
            () => dispatcherCpuMs(s.bus),
            () => s.measure(offer),
          ),
        teardown: (s) => s.bus.stop(),
      });
      await recorder.subject(target, {
        subject: "eventemitter3 (synchronous)",
        threadbus: false,
        group: "in-thread",
        unit: "µs",
        setup() {
          const emitter = eventEmitter3();
          const histogram = latencyHistogram();
          emitter.on("orders.created", (event) =>
            histogram.recordValue(nowNs() - (event as TimedEvent).data),
          );
          return { emitter, histogram };
        },
        warmup: ({ emitter }) =>
          offerAtRate(rate, warmupMs, (t) => emitter.emit("orders.created", timedEvent(t))),
        async repeat({ emitter, histogram }) {
          histogram.reset();
          await offer((t) => emitter.emit("orders.created", timedEvent(t)));
          return latencySample(histogram);
        },
      });
      for (const batch of [1, BATCH]) {
        await recorder.subject(target, {
          subject: batch === 1 ? "postMessage, 1 event per message" : "postMessage, batches of up to 64",
          threadbus: false,
          group: "cross-thread",
          unit: "µs",
          setup: async () => echoSubject(await EchoChannel.start(), batch),
          warmup: (s) => s.measure((send, end) => offerAtRate(rate, warmupMs, send, end)),
          repeat: (s) =>
            withCpu(
              "echo worker CPU",
              () => s.channel.cpuMs(),
              () => s.measure(offer),
            ),
          teardown: (s) => s.channel.close(),
        });
      }
    }
  },
};

/** The same event the buses carry, with the intended send time as data. */
interface TimedEvent {
  system: string;
  kind: string;
  path: string;
  data: number;
}

function timedEvent(intendedNs: number): TimedEvent {
  return { system: "orders", kind: "created", path: "o/1", data: intendedNs };
}

type Offer = (send: (intendedNs: number) => void, endOfTurn?: () => void) => Promise<number>;

async function busSubject<B extends EventBus>(bus: B) {
  const histogram = latencyHistogram();
  const subscription = await bus.subscribe("orders", "created");
  const counter = new Counter(subscription, (intended) =>
    histogram.recordValue(nowNs() - (intended as number)),
  );
  return {
    bus,
    async measure(offer: Offer) {
      histogram.reset();
      const goal = counter.count;
      const sent = await offer((t) => {
        if (!bus.send(timedEvent(t))) throw new Error("send refused");
      });
      await counter.until(goal + sent);
      return latencySample(histogram);
    },
  };
}

function echoSubject(channel: EchoChannel, batch: number) {
  const histogram: hdr.Histogram = latencyHistogram();
  let received = 0;
  let target = Number.POSITIVE_INFINITY;
  let reached: (() => void) | null = null;
  channel.onMessage = (message) => {
    const now = nowNs();
    if (batch === 1) {
      histogram.recordValue(now - (message as TimedEvent).data);
      received++;
    } else {
      for (const event of message as TimedEvent[]) histogram.recordValue(now - event.data);
      received += (message as TimedEvent[]).length;
    }
    if (received >= target) reached?.();
  };
  let pending: TimedEvent[] = [];
  const flush = () => {
    if (pending.length > 0) channel.post(pending);
    pending = [];
  };
  const send =
    batch === 1
      ? (t: number) => channel.post(timedEvent(t))
      : (t: number) => {
          pending.push(timedEvent(t));
          if (pending.length === batch) flush();
        };
  return {
    channel,
    async measure(offer: Offer) {
      histogram.reset();
      received = 0;
      const sent = await offer(send, batch === 1 ? undefined : flush);
      target = sent;
      if (received < sent) await new Promise<void>((resolve) => (reached = resolve));
      target = Number.POSITIVE_INFINITY;
      reached = null;
      return latencySample(histogram);
    },
  };
}

/**
 * Runs `measure` and adds the CPU share of one thread over it (as % of one core), read by
 * `cpuMs` before and after; nothing is added where the platform does not report thread CPU.
 */
async function withCpu(
  name: string,
  cpuMs: () => Promise<number | null>,
  measure: () => Promise<Sample>,
): Promise<Sample> {
  const before = await cpuMs();
  const started = performance.now();
  const sample = await measure();
  const wallMs = performance.now() - started;
  const after = await cpuMs();
  if (before === null || after === null) return sample;
  const extra: Extra = { name, value: ((after - before) / wallMs) * 100, unit: "% of a core" };
  return { ...sample, extra: [extra] };
}
