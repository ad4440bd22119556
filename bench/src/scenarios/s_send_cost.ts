import { MessageChannel } from "node:worker_threads";
import type { BusEvent } from "@threadbus/core";
import type { WorkerBus } from "@threadbus/worker";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";
import { benchEvents } from "../subjects/catalogue.js";
import { eventEmitter3 } from "../subjects/emitters.js";
import { makeBody, orderEvent } from "../subjects/payload.js";
import { startWorkerBus } from "../subjects/worker_bus.js";

/**
 * Sends timed back to back, the ring drained between bursts. A burst is long (8,192) because its
 * first sends pay for waking the dispatcher, which then reads right behind the publisher (records
 * share cache lines with the one being written): 1,024-event bursts measured ~2x the per-send
 * cost of 32,768-event ones on 2 vCPU. The ring (16 MiB) holds a burst of 1 KiB events, and the
 * warm-up goes round it twice: the first touch of each page of a fresh ring is a page fault,
 * which is not the cost of a send.
 */
const BURST = 8192;
const RING_BYTES = 1 << 24;
const EVENTS = 1024;

/** Sends that go round the ring twice with records of about `bytes` of data. */
function warmupSends(bytes: number): number {
  return Math.ceil((2 * RING_BYTES) / (bytes + 64) / BURST) * BURST;
}

/** The bus subjects: the generic codec, the compiled codec (validate "shape"), and validate "full". */
const MODES = [
  { subject: "threadbus WorkerBus send()", options: { onFull: "throw", ringBytes: RING_BYTES } },
  {
    subject: "threadbus WorkerBus catalogued send()",
    options: { onFull: "throw", ringBytes: RING_BYTES, events: benchEvents, validate: "shape" },
  },
  {
    subject: 'threadbus WorkerBus catalogued, validate "full" send()',
    options: { onFull: "throw", ringBytes: RING_BYTES, events: benchEvents, validate: "full" },
  },
] as const;

/** Until the dispatcher has read every record: the next burst starts with an empty ring. */
async function drained(bus: WorkerBus): Promise<void> {
  while (bus.stats().queued > 0) await new Promise((resolve) => setImmediate(resolve));
}

/** ns per send() over `count` events, in bursts of BURST timed alone, the ring drained between them. */
async function timeSends(bus: WorkerBus, events: readonly BusEvent[], count: number): Promise<number> {
  let elapsed = 0;
  for (let sent = 0; sent < count; sent += BURST) {
    await drained(bus);
    const started = nowNs();
    for (let i = 0; i < BURST; i++)
      if (!bus.send(events[i & (EVENTS - 1)]!)) throw new Error("send() refused an event");
    elapsed += nowNs() - started;
  }
  return elapsed / count;
}

export const sendCostScenario: Scenario = {
  id: "s-send-cost",
  title: "send() cost on the publishing thread, with room in the ring",
  measures:
    'Nanoseconds per call on the main thread, timed over bursts of 8,192 back-to-back calls with room for all of them (the ring, 16 MiB, is drained between bursts, untimed, and was gone round twice in the warm-up). threadbus WorkerBus send() of a { seq, body } object: generic codec (msgpackr), catalogued (compiled codec; validate "shape", its type checks while it writes), and catalogued with validate "full" (a zod parse per send: the difference is its cost). Peers: eventemitter3 emit() of the same event to one empty listener (the in-thread floor), and MessagePort postMessage() of the same event (structured clone at the sender; received untimed).',
  async run(recorder: CaseRecorder) {
    const count = recorder.quick ? 4 * BURST : 20 * BURST;
    for (const bytes of [64, 1024]) {
      const body = makeBody(bytes);
      // 1,024 events reused: 8,192 distinct ones measured ~2x slower for every subject here (the
      // publisher's reads of the events miss the cache), where a real publisher's fresh events are hot.
      const events = Array.from({ length: EVENTS }, (_, seq) => orderEvent(seq, body));
      const target = recorder.case(`s-send-cost-${bytes}`, `${bytes === 64 ? "64 B" : "1 KiB"} object`);
      for (const mode of MODES) {
        await recorder.subject(target, {
          subject: mode.subject,
          threadbus: true,
          unit: "ns/op",
          setup: () => startWorkerBus(mode.options),
          warmup: (bus) => timeSends(bus, events, warmupSends(bytes)),
          repeat: async (bus) => ({ value: await timeSends(bus, events, count) }),
          teardown: (bus) => bus.stop(),
        });
      }
      await recorder.subject(target, {
        subject: "eventemitter3 emit()",
        threadbus: false,
        unit: "ns/op",
        setup: () => {
          const emitter = eventEmitter3();
          emitter.on("orders.created", () => {});
          return emitter;
        },
        repeat: (emitter) => {
          const started = nowNs();
          for (let i = 0; i < count; i++) emitter.emit("orders.created", events[i & (EVENTS - 1)]);
          return { value: (nowNs() - started) / count };
        },
      });
      await recorder.subject(target, {
        subject: "MessagePort postMessage()",
        threadbus: false,
        unit: "ns/op",
        setup: () => {
          const channel = new MessageChannel();
          const state = { channel, received: 0 };
          channel.port2.on("message", () => void state.received++);
          return state;
        },
        repeat: async (state) => {
          let elapsed = 0;
          for (let sent = 0; sent < count; sent += BURST) {
            while (state.received < sent) await new Promise((resolve) => setImmediate(resolve));
            const started = nowNs();
            for (let i = 0; i < BURST; i++) state.channel.port1.postMessage(events[i & (EVENTS - 1)]);
            elapsed += nowNs() - started;
          }
          while (state.received < count) await new Promise((resolve) => setImmediate(resolve));
          state.received = 0;
          return { value: elapsed / count };
        },
        teardown: (state) => {
          state.channel.port1.close();
        },
      });
    }
  },
};
