import type { BusEvent } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { kControlTrips } from "../dist/symbols.js";
import { useBuses } from "./support.js";

async function take<D>(sub: AsyncIterable<BusEvent<D>>, count: number): Promise<BusEvent<D>[]> {
  const taken: BusEvent<D>[] = [];
  if (count === 0) return taken;
  for await (const e of sub) {
    taken.push(e);
    if (taken.length === count) break;
  }
  return taken;
}

describe("per-thread delivery", () => {
  const start = useBuses();

  it("subscriptions of mixed policies on one thread: slow drop-* ones drop and count on their own, never holding up a fast one", async () => {
    const bus = await start();
    const fast = await bus.subscribe("mix", "e", { bufferSize: 16 });
    const newest = await bus.subscribe("mix", "e", { bufferSize: 4, overflow: "drop-newest" });
    const oldest = await bus.subscribe("mix", "e", { bufferSize: 4, overflow: "drop-oldest" });
    const count = 5000;
    let maxHeld = 0;
    const seen: number[] = [];
    const consuming = (async () => {
      for await (const e of fast) {
        seen.push(e.data as number);
        maxHeld = Math.max(maxHeld, newest.stats().buffered, oldest.stats().buffered);
        if (seen.length === count) break;
      }
    })();
    // The slow ones are never read while this runs: only the fast one paces the sends.
    for (let i = 0; i < count; i++)
      await bus.sendAsync({ system: "mix", kind: "e", path: String(i), data: i });
    await consuming;
    await bus.flush();
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(maxHeld).toBeLessThanOrEqual(4);
    expect(newest.stats()).toMatchObject({ delivered: 4, dropped: count - 4, buffered: 4 });
    expect(oldest.stats()).toMatchObject({ dropped: count - 4, buffered: 4 });
    expect((await take(newest, 4)).map((e) => e.data)).toEqual([0, 1, 2, 3]);
    expect((await take(oldest, 4)).map((e) => e.data)).toEqual([count - 4, count - 3, count - 2, count - 1]);
    expect(bus.stats()).toMatchObject({ sent: count, dropped: 2 * (count - 4) });
  });

  it("a batch of 10,000 subscribes (and of their closes) takes a handful of control records and replies, not 10,000", async () => {
    const bus = await start();
    const trips = (bus as unknown as { [kControlTrips]: { records: number; replies: number } })[
      kControlTrips
    ];
    const before = { ...trips };
    const subs = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => bus.subscribe("chat", "message", { path: `user/${i}` })),
    );
    const subscribed = { records: trips.records - before.records, replies: trips.replies - before.replies };
    expect(bus.stats().subscriptions).toBe(10_000);
    await Promise.all(subs.map((sub) => sub.close()));
    const closed = { records: trips.records - before.records, replies: trips.replies - before.replies };
    console.log(
      `10,000 subscribes: ${subscribed.records} records, ${subscribed.replies} replies; with the closes: ${closed.records}, ${closed.replies}`,
    );
    expect(subscribed.records).toBeLessThanOrEqual(8);
    expect(subscribed.replies).toBe(subscribed.records);
    expect(closed.records).toBeLessThanOrEqual(16);
    expect(bus.stats().subscriptions).toBe(0);
  });

  it("100,000 subscriptions can be live on one WorkerBus, each routed by its literal path (memory per subscription printed)", async () => {
    const bus = await start();
    const total = 100_000;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const rssBefore = process.memoryUsage().rss;
    const subs = [];
    for (let from = 0; from < total; from += 10_000)
      subs.push(
        ...(await Promise.all(
          Array.from({ length: 10_000 }, (_, i) =>
            bus.subscribe("chat", "message", { path: `user/${from + i}` }),
          ),
        )),
      );
    await bus.flush();
    gc?.();
    const rssAfter = process.memoryUsage().rss;
    console.log(
      `100,000 live subscriptions: ${Math.round((rssAfter - rssBefore) / total)} bytes of RSS each (both threads, gc ${gc ? "run" : "not exposed"})`,
    );
    expect(bus.stats().subscriptions).toBe(total);
    expect(
      await bus.subscribe("chat", "message").then(
        () => "ok",
        (error: { code?: string }) => error.code,
      ),
    ).toBe("SUBSCRIBER_CAP");
    const targets = [0, 1, 4242, 99_999];
    for (const id of targets) bus.send({ system: "chat", kind: "message", path: `user/${id}`, data: id });
    for (const id of targets) expect((await take(subs[id]!, 1))[0]?.data).toBe(id);
    await bus.flush();
    expect(subs[2]!.stats()).toMatchObject({ delivered: 0, buffered: 0 });
    await Promise.all(subs.map((sub) => sub.close()));
    expect(bus.stats().subscriptions).toBe(0);
  }, 60_000);
});
