import { BroadcastChannel, parentPort } from "node:worker_threads";
import { type BusEvent, type EventBus, Subscriber } from "@threadbus/core";
import type { WorkerBusHandle } from "@threadbus/worker";
import { scaleEvents } from "../subjects/catalogue.js";
import {
  type BroadcastAck,
  FANOUT_ACK_EVERY,
  type ScaleData,
  type ScaleRequest,
  serveScaleRequests,
} from "../subjects/scale_event.js";
import { loadWorkerModule } from "../subjects/worker_bus.js";

/**
 * A subscriber thread of scenario j-scale. threadbus: attach()es and consumes orders.created with
 * a callback Subscriber (batches, no promise per event). Hand-written fan-out: a message listener
 * on one port per publisher, each message an array of events, acknowledged every
 * FANOUT_ACK_EVERY events. Both read every event's data: each publisher's sequence numbers must
 * arrive in order without gaps, or the next "until" request fails.
 */
const parent = parentPort!;
let bus: EventBus | null = null;
let subscriber: Subscriber | null = null;
let received = 0;
/** Next sequence number expected from each publisher. */
const expected: number[] = [];
let broken: string | null = null;
let target = Number.POSITIVE_INFINITY;
let reached: (() => void) | null = null;
let closeChannels = (): void => {};

serveScaleRequests(parent, handle);

function receive(data: ScaleData): void {
  const next = expected[data.p] ?? 0;
  if (data.seq !== next && broken === null)
    broken = `publisher ${data.p}: event ${data.seq} arrived when ${next} was expected`;
  expected[data.p] = data.seq + 1;
  if (++received >= target) {
    target = Number.POSITIVE_INFINITY;
    reached?.();
  }
}

async function handle(request: ScaleRequest): Promise<void> {
  switch (request.type) {
    case "attach": {
      const { attach } = await loadWorkerModule();
      const handle = request.handle as WorkerBusHandle;
      bus = (request.catalogued ? attach(handle, { events: scaleEvents }) : attach(handle)) as EventBus;
      subscriber = await Subscriber.start<ScaleData>(bus, "orders", "created", (event) =>
        receive(event.data!),
      );
      return;
    }
    case "connect":
      for (const port of request.ports) {
        let fromThis = 0;
        port.on("message", (events: BusEvent<ScaleData>[]) => {
          for (let i = 0; i < events.length; i++) receive(events[i]!.data!);
          const before = fromThis;
          fromThis += events.length;
          if (Math.floor(fromThis / FANOUT_ACK_EVERY) !== Math.floor(before / FANOUT_ACK_EVERY))
            port.postMessage(fromThis);
        });
      }
      return;
    case "broadcast": {
      const events = new BroadcastChannel(request.name);
      const acks = new BroadcastChannel(`${request.name}:ack`);
      // Acks of the other subscribers arrive here too; they are not ours to read.
      acks.onmessage = () => {};
      const fromEach: number[] = [];
      const s = request.subscriber;
      events.onmessage = (message: unknown) => {
        const batch = (message as { data: BusEvent<ScaleData>[] }).data;
        for (let i = 0; i < batch.length; i++) receive(batch[i]!.data!);
        const p = batch[0]!.data!.p;
        const before = fromEach[p] ?? 0;
        const count = before + batch.length;
        fromEach[p] = count;
        if (Math.floor(count / FANOUT_ACK_EVERY) !== Math.floor(before / FANOUT_ACK_EVERY)) {
          const ack: BroadcastAck = { p, s, count };
          acks.postMessage(ack);
        }
      };
      closeChannels = () => {
        events.close();
        acks.close();
      };
      return;
    }
    case "until":
      if (received < request.total) {
        await new Promise<void>((resolve) => {
          target = request.total;
          reached = resolve;
        });
        reached = null;
      }
      if (broken !== null) throw new Error(broken);
      return;
    case "detach":
      closeChannels();
      await subscriber?.close();
      await bus?.stop();
      bus = null;
      return;
    default:
      throw new Error(`unknown request ${JSON.stringify(request)}`);
  }
}
