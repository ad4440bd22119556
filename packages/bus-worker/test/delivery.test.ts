import type { BusEvent } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { useBuses } from "./support.js";

const event = (system: string, kind: string, path = "", data?: unknown): BusEvent =>
  data === undefined ? { system, kind, path } : { system, kind, path, data };

async function take<D>(sub: AsyncIterable<BusEvent<D>>, count: number): Promise<BusEvent<D>[]> {
  const taken: BusEvent<D>[] = [];
  if (count === 0) return taken;
  for await (const e of sub) {
    taken.push(e);
    if (taken.length === count) break;
  }
  return taken;
}

describe("delivered events (decoded on first access)", () => {
  const start = useBuses();

  it("behave as plain objects: spread, JSON.stringify, structuredClone, Object.keys and re-sending see every field", async () => {
    const bus = await start();
    const sub = await bus.subscribe("lazy", "**");
    const data = { user: "ana", n: 1, tags: ["a", "b"], at: new Date(5) };
    bus.send(event("lazy", "k", "p/1", data));
    const [got] = await take(sub, 1);
    const plain = { system: "lazy", kind: "k", path: "p/1", data };
    expect(Object.keys(got!)).toEqual(["system", "kind", "path", "data"]);
    expect({ ...got }).toEqual(plain);
    expect(JSON.parse(JSON.stringify(got))).toEqual(JSON.parse(JSON.stringify(plain)));
    expect(structuredClone(got)).toEqual(plain);
    expect(got).toEqual(plain);
    // Re-sending a delivered event forwards all of it.
    const forwarded = await bus.subscribe("again");
    bus.send({ ...got!, system: "again" });
    bus.send(Object.assign(got!, { system: "again" }));
    const twice = await take(forwarded, 2);
    expect(twice).toEqual([
      { ...plain, system: "again" },
      { ...plain, system: "again" },
    ]);
  });

  it("data reads the same once, twice, or after being assigned; an event without data has no data key", async () => {
    const bus = await start();
    const sub = await bus.subscribe("lazy");
    bus.send(event("lazy", "k", "", { v: 1 }));
    bus.send(event("lazy", "k", ""));
    const [first, second] = await take(sub, 2);
    const once = first!.data;
    expect(first!.data).toBe(once);
    first!.data = { v: 2 };
    expect(first!.data).toEqual({ v: 2 });
    expect("data" in second!).toBe(false);
  });

  it("a consumer that reads data and one that does not receive the same events", async () => {
    const bus = await start();
    const reader = await bus.subscribe("mode", "", { bufferSize: 256 });
    const router = await bus.subscribe("mode", "", { bufferSize: 256 });
    const count = 5000;
    const readerSeen: unknown[] = [];
    const routerSeen: BusEvent[] = [];
    const reading = (async () => {
      for await (const e of reader) {
        readerSeen.push(e.data);
        if (readerSeen.length === count) break;
      }
    })();
    const routing = (async () => {
      for await (const e of router) {
        routerSeen.push(e);
        if (routerSeen.length === count) break;
      }
    })();
    for (let i = 0; i < count; i++)
      await bus.sendAsync(event("mode", "k", String(i), { i, s: "x".repeat(i % 7) }));
    await Promise.all([reading, routing]);
    expect(readerSeen).toEqual(Array.from({ length: count }, (_, i) => ({ i, s: "x".repeat(i % 7) })));
    // The router never touched data while it ran; it is all still there, decoded on demand now.
    expect(routerSeen.map((e) => e.data)).toEqual(readerSeen);
  });
});

describe("the delivery path", () => {
  const start = useBuses();

  it("events larger than a quarter of the subscriber's ring travel by postMessage and keep their place in the order", async () => {
    const bus = await start({ ringBytes: 1 << 22 });
    // bufferSize 4 gives the smallest delivery ring (4 KiB): anything over 1 KiB is a large event.
    const sub = await bus.subscribe("big", "", { bufferSize: 4 });
    const sizes = [10, 5000, 20, 100_000, 30, 2000, 2000, 7];
    const sending = (async () => {
      for (const [i, size] of sizes.entries())
        await bus.sendAsync(event("big", "k", String(i), "y".repeat(size)));
    })();
    const got = await take(sub, sizes.length);
    await sending;
    expect(got.map((e) => [e.path, (e.data as string).length])).toEqual(
      sizes.map((size, i) => [String(i), size]),
    );
  });

  it("routes correctly past the shared name table: thousands of names, long names, and non-ASCII names", async () => {
    const bus = await start();
    const all = await bus.subscribe("**");
    const systems = [
      ...Array.from({ length: 5000 }, (_, i) => `sys${i}`),
      `long.${"x".repeat(400)}`,
      "café.naïve",
      "日本.東京",
    ];
    const sending = (async () => {
      for (const system of systems) await bus.sendAsync(event(system, `k.${system.length}`, system));
    })();
    const got = await take(all, systems.length);
    await sending;
    expect(got.map((e) => [e.system, e.kind, e.path])).toEqual(systems.map((s) => [s, `k.${s.length}`, s]));
    const one = await bus.subscribe("日本.*", "k.5");
    bus.send(event("日本.東京", "k.5", "again"));
    expect((await take(one, 1))[0]?.path).toBe("again");
  });

  it("a consumer that takes events one by one under block never holds more than bufferSize, and loses nothing", async () => {
    const bus = await start({ onFull: "drop" });
    const sub = await bus.subscribe("b", "", { bufferSize: 8 });
    let maxBuffered = 0;
    let received = 0;
    const consuming = (async () => {
      for await (const _ of sub) {
        received++;
        maxBuffered = Math.max(maxBuffered, sub.stats().buffered);
        if (received % 97 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
        if (received === 3000) break;
      }
    })();
    let sent = 0;
    while (sent < 3000) {
      if (bus.send(event("b", "k", String(sent)))) sent++;
      else await bus.ready();
    }
    await consuming;
    expect(maxBuffered).toBeLessThanOrEqual(8);
    expect(bus.stats()).toMatchObject({ sent: 3000, dropped: 0 });
  });
});
