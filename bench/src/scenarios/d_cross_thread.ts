import type { BusEvent } from "@threadbus/core";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";
import { BroadcastEcho } from "../subjects/broadcast_channel.js";
import { benchEvents } from "../subjects/catalogue.js";
import { Counter } from "../subjects/counter.js";
import { EchoChannel, echoThroughput } from "../subjects/echo_channel.js";
import { DataReader, makeBody, orderEvent, textEvent } from "../subjects/payload.js";
import { publishWindowed } from "../subjects/publish.js";
import { startWorkerBus } from "../subjects/worker_bus.js";

/** One payload shape of the scenario: how events are made and how a reading consumer reads them. */
interface Payload {
  id: string;
  label: string;
  makeEvent: (seq: number) => BusEvent;
  read: (reader: DataReader) => (data: unknown) => void;
  /** The payload is catalogued (subjects/catalogue.ts): the bus is measured with its compiled codec too. */
  catalogued: boolean;
}

function payloads(): Payload[] {
  const small = makeBody(64);
  const large = makeBody(1024);
  const text = "x".repeat(64);
  return [
    {
      id: "64",
      label: "64 B object",
      makeEvent: (seq) => orderEvent(seq, small),
      read: (r) => r.readObject,
      catalogued: true,
    },
    {
      id: "64-string",
      label: "64 B string",
      makeEvent: () => textEvent(text),
      read: (r) => r.readText,
      catalogued: false,
    },
    {
      id: "1024",
      label: "1 KiB object",
      makeEvent: (seq) => orderEvent(seq, large),
      read: (r) => r.readObject,
      catalogued: true,
    },
  ];
}

/** The bus subjects: the generic codec, a catalogue (compiled codec, validate "shape"), and validate "full". */
const SUBJECT_SUFFIX = {
  generic: "",
  catalogued: " catalogued",
  full: ' catalogued, validate "full"',
} as const;

/** The two consumers every subject is measured with; ratios are taken within one only. */
const CONSUMERS = [
  { reads: false, group: "ignores data" },
  { reads: true, group: "reads data" },
] as const;

export const crossThreadScenario: Scenario = {
  id: "d-cross-thread",
  title: "cross-thread throughput, main -> dispatcher -> subscriber",
  measures:
    'Events/s from a publisher on the main thread to a subscriber on the main thread through another thread, timed from the first send to the last event received, with two consumers: one that reads a field of every event\'s data and one that routes on system/kind/path only and never touches data. threadbus WorkerBus (onFull "throw", as the main thread must not block): send() into the shared ring, the dispatcher worker routes, the subscriber drains its Subscription with for await; no flush() round trips. Peers: postMessage to an echo worker and back, one message per event (plain) or arrays of 64 events (batched by hand); structured clone decodes every event whether the consumer reads it or not. Every subject keeps at most 8,192 events sent and not yet received, and waits for half of them at that limit. BroadcastChannel: one named channel to an echo worker, another back, one message per event. The catalogued bus subjects start the bus with a catalogue of { seq, body } (compiled codec; validate "shape", or "full": a zod parse per send). Payloads: { seq, body } objects of about 64 B and 1 KiB as JSON, and a 64-character string.',
  async run(recorder: CaseRecorder) {
    const count = recorder.quick ? 30_000 : 300_000;
    const warmup = recorder.quick ? 10_000 : 30_000;
    for (const payload of payloads()) {
      const { makeEvent } = payload;
      const target = recorder.case(
        `d-cross-thread-${payload.id}`,
        `${payload.label} payload, ${count.toLocaleString("en")} events`,
      );
      const modes = payload.catalogued
        ? (["generic", "catalogued", "full"] as const)
        : (["generic"] as const);
      for (const { reads, group } of CONSUMERS) {
        for (const mode of modes) {
          await recorder.subject(target, {
            subject: `threadbus WorkerBus${SUBJECT_SUFFIX[mode]}, ${group}`,
            threadbus: true,
            group,
            unit: "events/s",
            async setup() {
              const bus = await startWorkerBus(
                mode === "generic"
                  ? { onFull: "throw" }
                  : { onFull: "throw", events: benchEvents, validate: mode === "full" ? "full" : "shape" },
              );
              const reader = new DataReader();
              const subscription = await bus.subscribe("orders", "created");
              return { bus, counter: new Counter(subscription, reads ? payload.read(reader) : undefined) };
            },
            warmup: async ({ bus, counter }) => {
              const goal = counter.count + warmup;
              await publishWindowed(bus, warmup, makeEvent, counter);
              await counter.until(goal);
            },
            async repeat({ bus, counter }) {
              const goal = counter.count + count;
              const started = nowNs();
              await publishWindowed(bus, count, makeEvent, counter);
              await counter.until(goal);
              return { value: count / ((nowNs() - started) / 1e9) };
            },
            teardown: ({ bus }) => bus.stop(),
          });
        }
      }
      for (const { reads, group } of CONSUMERS) {
        for (const batch of [1, 64]) {
          const read = reads ? payload.read(new DataReader()) : undefined;
          await recorder.subject(target, {
            subject: `${batch === 1 ? "postMessage, 1 event per message" : "postMessage, batches of 64"}, ${group}`,
            threadbus: false,
            group,
            unit: "events/s",
            setup: () => EchoChannel.start(),
            warmup: (channel) => echoThroughput(channel, warmup, batch, makeEvent, read),
            repeat: async (channel) => ({
              value: await echoThroughput(channel, count, batch, makeEvent, read),
            }),
            teardown: (channel) => channel.close(),
          });
        }
        const read = reads ? payload.read(new DataReader()) : undefined;
        await recorder.subject(target, {
          subject: `BroadcastChannel, 1 event per message, ${group}`,
          threadbus: false,
          group,
          unit: "events/s",
          setup: () => BroadcastEcho.start(),
          warmup: (echo) => echoThroughput(echo, warmup, 1, makeEvent, read),
          repeat: async (echo) => ({ value: await echoThroughput(echo, count, 1, makeEvent, read) }),
          teardown: (echo) => echo.close(),
        });
      }
    }
  },
};
