import { describe, expect, it } from "vitest";
import { attachedThread, nextMessage, useBuses } from "./support.js";

describe("WorkerBus.inspect() in the shape both buses share", () => {
  const start = useBuses();

  it("adds path globs, per-thread clients, the match cache, fan-out, the queue and the totals", async () => {
    const bus = await start({ ringBytes: 1 << 16 });
    const all = await bus.subscribe("pub", "**", { path: "east:*" });
    const east = await bus.subscribe("pub", "east");
    // A subscriber thread that stays attached (it waits for more events than are sent).
    const subscriber = attachedThread(bus, { role: "subscriber", count: 1_000_000 });
    expect(await nextMessage(subscriber)).toBe("subscribed");
    const publisher = attachedThread(bus, { role: "publisher", count: 10, name: "east" });
    publisher.postMessage("go");
    const published = await nextMessage<{ sent: number }>(publisher);
    expect(published.sent).toBe(10);
    bus.send({ system: "pub", kind: "west", path: "west:0" });
    await bus.flush();
    // The publisher detaches after reporting: wait until its thread slot is given back.
    while ((await bus.inspect()).clients.length > 2) await new Promise((r) => setTimeout(r, 5));

    const info = await bus.inspect();
    expect(info.bus).toBe("WorkerBus");
    expect(info.uptimeMs).toBeGreaterThan(0);
    expect(info.subscriptions.find((s) => s.id === all.id)).toMatchObject({ path: "east:*", client: 0 });
    expect(info.subscriptions.find((s) => s.id === east.id)).toMatchObject({ path: null, delivered: 10 });
    // Client 0 (this thread) sent one event, client 1 subscribes; the publisher (client 2) left,
    // so it is no longer listed, and its ten sends live on in the totals.
    expect(info.clients).toEqual([
      { client: 0, subscriptions: 2, sent: 1, refused: 0 },
      { client: 1, subscriptions: 1, sent: 0, refused: 0 },
    ]);
    expect(info.eventsRead).toBe(11);
    expect(info.matchCache.hits + info.matchCache.misses).toBe(11);
    expect(info.matchCache.misses).toBeGreaterThanOrEqual(2);
    expect(info.matchCache.hitRate).toBeCloseTo(info.matchCache.hits / 11);
    // East events reach three subscriptions (the attached subscriber among them); the west one
    // matches "pub **" twice (this thread's, whose path glob then skips it, and the subscriber's).
    expect(info.fanOut).toBeCloseTo((10 * 3 + 2) / 11);
    expect(info.queue).toEqual({
      unit: "bytes",
      capacity: 1 << 16,
      used: info.ring.usedBytes,
      occupancy: info.ring.occupancy,
    });
    expect(info.stats).toMatchObject({ sent: 11, subscriptions: 3 });
    await subscriber.terminate();
  });
});
