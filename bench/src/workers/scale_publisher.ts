import { BroadcastChannel, type MessagePort, parentPort, workerData } from "node:worker_threads";
import type { EventBus } from "@threadbus/core";
import type { WorkerBusHandle } from "@threadbus/worker";
import { scaleEvents } from "../subjects/catalogue.js";
import { IN_FLIGHT, publishWithBackPressure } from "../subjects/publish.js";
import {
  type BroadcastAck,
  FANOUT_BATCH,
  type ScaleRequest,
  scaleEvent,
  serveScaleRequests,
} from "../subjects/scale_event.js";
import { loadWorkerModule } from "../subjects/worker_bus.js";

/**
 * A publisher thread of scenario j-scale. threadbus: attach()es to the WorkerBus and send()s with
 * the ring's back-pressure (onFull "wait" blocks this worker while the ring is full). Hand-written
 * fan-out: builds arrays of 64 events and posts each array to every subscriber's port, keeping at
 * most IN_FLIGHT events unacknowledged by the slowest subscriber.
 */
const index = (workerData as { index: number }).index;
const parent = parentPort!;
let bus: EventBus | null = null;
let ports: MessagePort[] = [];
/** The BroadcastChannel peer's channels: batches go out on one; acks come back on the other. */
let channel: BroadcastChannel | null = null;
let acks: BroadcastChannel | null = null;
/** Per subscriber port: how many of our events it has received (it reports every FANOUT_ACK_EVERY). */
let acked: number[] = [];
let sent = 0;
let wake: (() => void) | null = null;

serveScaleRequests(parent, handle);

async function handle(request: ScaleRequest): Promise<void> {
  switch (request.type) {
    case "attach": {
      const { attach } = await loadWorkerModule();
      const handle = request.handle as WorkerBusHandle;
      bus = (request.catalogued ? attach(handle, { events: scaleEvents }) : attach(handle)) as EventBus;
      return;
    }
    case "connect":
      ports = request.ports;
      acked = ports.map(() => 0);
      for (const [i, port] of ports.entries()) port.on("message", (count: number) => onAck(i, count));
      return;
    case "broadcast": {
      channel = new BroadcastChannel(request.name);
      // Every thread with the channel's name receives every batch: a publisher too (and it must
      // take them, or they queue up). That cost is BroadcastChannel's, so it is measured.
      channel.onmessage = () => {};
      acks = new BroadcastChannel(`${request.name}:ack`);
      acked = Array.from({ length: request.subscribers }, () => 0);
      acks.onmessage = (message: unknown) => {
        const ack = (message as { data: BroadcastAck }).data;
        if (ack.p === index) onAck(ack.s, ack.count);
      };
      return;
    }
    case "run":
      if (bus !== null) {
        const first = sent;
        sent += request.count;
        await publishWithBackPressure(bus, request.count, (i) => scaleEvent(index, first + i, request.body));
      } else await fanOut(request.count, request.body);
      return;
    case "detach":
      await bus?.stop();
      bus = null;
      channel?.close();
      acks?.close();
      return;
    default:
      throw new Error(`unknown request ${JSON.stringify(request)}`);
  }
}

function onAck(subscriber: number, count: number): void {
  acked[subscriber] = count;
  if (wake !== null && sent - Math.min(...acked) <= IN_FLIGHT / 2) {
    const resume = wake;
    wake = null;
    resume();
  }
}

async function fanOut(count: number, body: string): Promise<void> {
  if (ports.length === 0 && channel === null) throw new Error("neither attached nor connected");
  const end = sent + count;
  while (sent < end) {
    if (sent - Math.min(...acked) >= IN_FLIGHT) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      continue;
    }
    const events = new Array(Math.min(FANOUT_BATCH, end - sent));
    for (let i = 0; i < events.length; i++) events[i] = scaleEvent(index, sent++, body);
    if (channel !== null) channel.postMessage(events);
    else for (const port of ports) port.postMessage(events);
  }
}
