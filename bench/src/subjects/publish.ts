import type { BusEvent, EventBus } from "@threadbus/core";

/** Sends between flushes: large enough that the flush costs nothing per event, small enough to keep the queue short. */
const FLUSH_EVERY = 1024;

/**
 * Sends `count` events the way a steady publisher does: in a loop, awaiting `flush()` every
 * 1024 sends so the queue stays short and the consumer runs. A refused send (a full worker ring,
 * or BUS_FULL) is retried after yielding, so every event is delivered and counted.
 */
export async function publish(
  bus: EventBus,
  count: number,
  makeEvent: (seq: number) => BusEvent,
): Promise<void> {
  for (let seq = 0; seq < count; seq++) {
    const event = makeEvent(seq);
    while (!trySend(bus, event)) await yieldToLoop();
    if (seq % FLUSH_EVERY === FLUSH_EVERY - 1) await bus.flush();
  }
  await bus.flush();
}

function trySend(bus: EventBus, event: BusEvent): boolean {
  try {
    return bus.send(event);
  } catch (error) {
    if ((error as { code?: unknown }).code === "BUS_FULL") return false;
    throw error;
  }
}

export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
