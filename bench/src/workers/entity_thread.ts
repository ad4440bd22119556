import { BroadcastChannel, parentPort } from "node:worker_threads";
import type { BusEvent, EventBus, Subscription } from "@threadbus/core";
import type { WorkerBus, WorkerBusHandle } from "@threadbus/worker";
import {
  BROADCAST_BATCH,
  BROADCAST_WINDOW_BATCHES,
  ENTITY_KIND,
  ENTITY_SYSTEM,
  type EntityEnvelope,
  type EntityReply,
  type EntityRequest,
  entityOf,
} from "../subjects/entity_event.js";
import { loadWorkerModule } from "../subjects/worker_bus.js";

/**
 * A thread of scenario m-entities: a subscriber owning a range of entities, or a publisher.
 * threadbus: one subscription per entity (chat / message, path user/<id>), each drained by its own
 * `for await`, as a WebSocket server holds one per connection. Peer: a Map<path, handler> and one
 * BroadcastChannel that carries every event, in arrays of 64, to every thread; each subscriber
 * looks its entities up, and acknowledges batches on a second channel so publishers stay within a
 * window of the slowest one.
 */
const parent = parentPort!;
let bus: EventBus | null = null;
let first = 0;
let counts = new Int32Array(0);
let received = 0;
let misrouted = 0;
let target = Number.POSITIVE_INFINITY;
let reached: (() => void) | null = null;
const subscriptions: Subscription<number>[] = [];
let channel: BroadcastChannel | null = null;
let acks: BroadcastChannel | null = null;
/** Publisher, peer: batches each subscriber has acknowledged. */
let acked: number[] = [];
let onAck: (() => void) | null = null;

function receive(entity: number, event: BusEvent<number>): void {
  if (event.data !== entity || event.path !== `user/${entity}`) misrouted++;
  counts[entity - first]!++;
  if (++received >= target) {
    target = Number.POSITIVE_INFINITY;
    reached?.();
  }
}

async function drain(entity: number, sub: Subscription<number>): Promise<void> {
  for await (const event of sub) receive(entity, event);
}

async function subscribeRange(from: number, count: number): Promise<Subscription<number>[]> {
  const made: Subscription<number>[] = [];
  for (let at = 0; at < count; at += 5000) {
    const batch = Array.from({ length: Math.min(5000, count - at) }, (_, i) =>
      bus!.subscribe<number>(ENTITY_SYSTEM, ENTITY_KIND, { path: `user/${from + at + i}` }),
    );
    made.push(...((await Promise.all(batch)) as Subscription<number>[]));
  }
  return made;
}

async function handle(request: EntityRequest): Promise<Partial<EntityReply>> {
  switch (request.type) {
    case "bus-subscribe": {
      first = request.first;
      counts = new Int32Array(request.count);
      const made = await subscribeRange(request.first, request.count);
      made.forEach((sub, i) => void drain(request.first + i, sub));
      subscriptions.push(...made);
      return {};
    }
    case "broadcast-subscribe": {
      first = request.first;
      counts = new Int32Array(request.count);
      const handlers = new Map<string, (event: BusEvent<number>) => void>();
      for (let i = 0; i < request.count; i++) {
        const entity = request.first + i;
        handlers.set(`user/${entity}`, (event) => receive(entity, event));
      }
      channel = new BroadcastChannel(request.name);
      acks = new BroadcastChannel(`${request.name}.acks`);
      let batches = 0;
      const index = request.index;
      channel.onmessage = (message: unknown) => {
        const events = (message as { data: BusEvent<number>[] }).data;
        for (let i = 0; i < events.length; i++) handlers.get(events[i]!.path)?.(events[i]!);
        if (++batches % 16 === 0) acks!.postMessage([index, batches]);
      };
      return {};
    }
    case "bus-attach": {
      const { attach } = await loadWorkerModule();
      bus = attach(request.handle as WorkerBusHandle) as EventBus;
      return {};
    }
    case "broadcast-attach": {
      channel = new BroadcastChannel(request.name);
      acks = new BroadcastChannel(`${request.name}.acks`);
      acked = new Array<number>(request.subscribers).fill(0);
      channel.onmessage = () => {}; // its own batches come back to it too: ignored
      acks.onmessage = (message: unknown) => {
        const [index, batches] = (message as { data: [number, number] }).data;
        acked[index] = Math.max(acked[index]!, batches);
        onAck?.();
      };
      return {};
    }
    case "run": {
      const { from, count, entities } = request;
      if (channel === null) {
        const workerBus = bus as WorkerBus;
        for (let seq = from; seq < from + count; seq++) {
          const entity = entityOf(seq, entities);
          const event = { system: ENTITY_SYSTEM, kind: ENTITY_KIND, path: `user/${entity}`, data: entity };
          try {
            workerBus.send(event);
          } catch (error) {
            // The ring stayed full past maxWaitMs (subscribers behind): wait for room without blocking.
            if ((error as { code?: string }).code !== "BUS_FULL") throw error;
            await workerBus.sendAsync(event);
          }
        }
        await bus!.flush();
        return {};
      }
      let sent = Math.min(...acked);
      let batch: BusEvent<number>[] = [];
      for (let seq = from; seq < from + count; seq++) {
        const entity = entityOf(seq, entities);
        batch.push({ system: ENTITY_SYSTEM, kind: ENTITY_KIND, path: `user/${entity}`, data: entity });
        if (batch.length === BROADCAST_BATCH || seq === from + count - 1) {
          channel.postMessage(batch);
          batch = [];
          sent++;
          while (sent - Math.min(...acked) > BROADCAST_WINDOW_BATCHES)
            await new Promise<void>((resolve) => {
              onAck = resolve;
            });
        }
      }
      return {};
    }
    case "until": {
      if (received < request.total)
        await new Promise<void>((resolve) => {
          target = request.total;
          reached = resolve;
        });
      return { counts: counts.slice(), misrouted };
    }
    case "churn": {
      // Fresh entities past every real one: no event is sent to them.
      const base = 1 << 30;
      let started = performance.now();
      const made = await subscribeRange(base, request.count);
      await Promise.all(made.map((sub) => sub.close()));
      const batchedPerSecond = request.count / ((performance.now() - started) / 1000);
      const sequential = Math.min(2000, request.count);
      started = performance.now();
      for (let i = 0; i < sequential; i++) {
        const sub = await bus!.subscribe(ENTITY_SYSTEM, ENTITY_KIND, { path: `user/${base + i}` });
        await sub.close();
      }
      const sequentialPerSecond = sequential / ((performance.now() - started) / 1000);
      return { batchedPerSecond, sequentialPerSecond };
    }
    case "detach":
      await Promise.all(subscriptions.splice(0).map((sub) => sub.close()));
      channel?.close();
      acks?.close();
      await (bus as { stop?: () => Promise<void> } | null)?.stop?.();
      return {};
  }
}

parent.on("message", (envelope: EntityEnvelope) => {
  handle(envelope.request).then(
    (reply) => parent.postMessage({ id: envelope.id, ...reply } satisfies EntityReply),
    (error: unknown) =>
      parent.postMessage({
        id: envelope.id,
        error: String((error as Error)?.stack ?? error),
      } satisfies EntityReply),
  );
});
