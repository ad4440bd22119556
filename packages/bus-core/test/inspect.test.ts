import { afterEach, describe, expect, it, vi } from "vitest";
import { Bus, SubscriptionIndex } from "../src/index.js";

const quiet = { warn: vi.fn(), error: vi.fn() };
const buses: Bus[] = [];
function makeBus(options: ConstructorParameters<typeof Bus>[0] = {}): Bus {
  const bus = new Bus({ logger: quiet, ...options });
  buses.push(bus);
  return bus;
}
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop()));
});

describe("Bus.inspect()", () => {
  it("lists each live subscription with its patterns, path glob, policy and counters", async () => {
    const bus = makeBus();
    const all = await bus.subscribe("registry", "", { bufferSize: 4, overflow: "drop-newest" });
    const created = await bus.subscribe("registry", "create", { path: "svc/**" });
    for (let i = 0; i < 6; i++) bus.send({ system: "registry", kind: "create", path: `svc/${i}` });
    bus.send({ system: "registry", kind: "create", path: "other" });
    await bus.flush();
    const inspection = bus.inspect();
    expect(inspection.bus).toBe("Bus");
    expect(inspection.subscriptions).toEqual([
      {
        id: all.id,
        system: "registry",
        kind: "",
        path: null,
        overflow: "drop-newest",
        bufferSize: 4,
        buffered: 4,
        delivered: 4,
        dropped: 3,
        client: 0,
      },
      {
        id: created.id,
        system: "registry",
        kind: "create",
        path: "svc/**",
        overflow: "block",
        bufferSize: 1024,
        buffered: 6,
        delivered: 6,
        dropped: 0,
        client: 0,
      },
    ]);
    expect(inspection.stats).toEqual(bus.stats());
    expect(inspection.clients).toEqual([{ client: 0, subscriptions: 2, sent: 7, refused: 0 }]);
    expect(inspection.eventsRead).toBe(7);
    expect(inspection.slowest.map((s) => s.id)).toEqual([all.id, created.id]);
    expect(inspection.blockedOn).toBeNull();
    expect(inspection.queue).toEqual({ unit: "actions", capacity: 1_000_000, used: 0, occupancy: 0 });
  });

  it("reports the match cache's hits and misses and the mean fan-out before path filters", async () => {
    const bus = makeBus();
    await bus.subscribe("a.*");
    await bus.subscribe("a.b", "k");
    await bus.subscribe("**");
    for (let i = 0; i < 4; i++) bus.send({ system: "a.b", kind: "k", path: "" });
    bus.send({ system: "c", kind: "k", path: "" });
    await bus.flush();
    const { matchCache, fanOut, eventsRead } = bus.inspect();
    expect(eventsRead).toBe(5);
    expect(matchCache).toMatchObject({ hits: 3, misses: 2, entries: 2, capacity: 4096 });
    expect(matchCache.hitRate).toBeCloseTo(3 / 5);
    // a.b/k reaches three subscriptions (four times), c/k only "**".
    expect(fanOut).toBeCloseTo((4 * 3 + 1) / 5);
  });

  it("names the subscription a blocked dispatcher waits on", async () => {
    const bus = makeBus();
    const full = await bus.subscribe("s", "", { bufferSize: 1 });
    bus.send({ system: "s", kind: "k", path: "1" });
    bus.send({ system: "s", kind: "k", path: "2" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const inspection = bus.inspect();
    expect(inspection.blockedOn).toBe(full.id);
    expect(inspection.slowest[0]?.id).toBe(full.id);
    expect(inspection.queue.used).toBe(0);
    await full.close();
  });

  it("reports a recent rate over the interval since the previous call", async () => {
    const bus = makeBus();
    await bus.subscribe("s");
    bus.inspect();
    for (let i = 0; i < 100; i++) bus.send({ system: "s", kind: "k", path: "" });
    await bus.flush();
    const first = bus.inspect();
    expect(first.eventsPerSecond.recent).toBeGreaterThan(0);
    expect(first.eventsPerSecond.sinceStart).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(bus.inspect().eventsPerSecond.recent).toBe(0);
  });
});

describe("SubscriptionIndex.lookups", () => {
  it("counts match() hits and misses and the entries returned, and leaves matchUncached() out", () => {
    const index = new SubscriptionIndex<number>({ cacheSize: 2 });
    index.add("sub.1", "x.*", undefined, 1);
    index.add("sub.2", "x.y", "k", 2);
    index.match("x.y", "k");
    index.match("x.y", "k");
    index.match("x.z", "k");
    index.matchUncached("x.y", "k");
    expect(index.lookups).toEqual({ hits: 1, misses: 2, matched: 5, cacheEntries: 2, cacheSize: 2 });
  });
});
