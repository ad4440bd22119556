import { describe, expect, it } from "vitest";
import { kDispatcherWorker } from "../dist/symbols.js";
import { attachedThread, codeOf, nextMessage, useBuses } from "./support.js";

describe("failure", () => {
  const start = useBuses();

  it("a dispatcher that dies rejects every pending call with WORKER_FAILED and ends iterators with it", async () => {
    const bus = await start();
    await bus.subscribe("b", "", { bufferSize: 1 });
    const waiting = await bus.subscribe("other");
    const next = codeOf(waiting[Symbol.asyncIterator]().next());
    for (let i = 0; i < 5; i++) bus.send({ system: "b", kind: "k", path: String(i) });
    // The dispatcher is blocked on the first subscriber, so these stay pending.
    const flush = codeOf(bus.flush());
    const subscribe = codeOf(bus.subscribe("late"));
    const unsubscribe = codeOf(bus.unsubscribe(waiting.id));
    await bus[kDispatcherWorker].terminate();
    expect(await flush).toBe("WORKER_FAILED");
    expect(await subscribe).toBe("WORKER_FAILED");
    expect(await unsubscribe).toBe("WORKER_FAILED");
    expect(await next).toBe("WORKER_FAILED");
    expect(await codeOf(bus.subscribe("again"))).toBe("WORKER_FAILED");
    expect(await codeOf(bus.inspect())).toBe("WORKER_FAILED");
    expect(bus.closed).toBe(true);
    // send reports the failure by returning false, and counts the event as refused.
    const refusedBefore = bus.stats().refused;
    expect(bus.send({ system: "b", kind: "k", path: "late" })).toBe(false);
    expect(bus.stats().refused).toBe(refusedBefore + 1);
    await bus.stop();
  });

  it("an iterator yields what it had buffered before it ends with WORKER_FAILED", async () => {
    const bus = await start();
    const sub = await bus.subscribe("s");
    bus.send({ system: "s", kind: "k", path: "1" });
    bus.send({ system: "s", kind: "k", path: "2" });
    await bus.flush();
    await bus[kDispatcherWorker].terminate();
    const seen: string[] = [];
    const code = await codeOf(
      (async () => {
        for await (const e of sub) seen.push(e.path);
      })(),
    );
    expect(seen).toEqual(["1", "2"]);
    expect(code).toBe("WORKER_FAILED");
  });

  it("a subscriber whose thread dies is removed and counted, and no longer holds the dispatcher", async () => {
    const bus = await start();
    const remote = attachedThread(bus, { role: "stalled-subscriber" });
    expect(await nextMessage(remote)).toBe("subscribed");
    const local = await bus.subscribe("pub", "**");
    // The remote subscriber takes one event and then blocks the dispatcher (bufferSize 1).
    for (let i = 0; i < 10; i++) bus.send({ system: "pub", kind: "k", path: String(i) });
    const iterator = local[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.path).toBe("0");
    expect((await bus.inspect()).blockedOn).toBe("sub.1");
    await remote.terminate();
    for (let i = 1; i < 10; i++) expect((await iterator.next()).value?.path).toBe(String(i));
    const info = await bus.inspect();
    expect(info.lostSubscribers).toBe(1);
    expect(info.subscriptions.map((s) => s.id)).toEqual([local.id]);
    expect(bus.stats().subscriptions).toBe(1);
  });
});

describe("inspect", () => {
  const start = useBuses();

  it("lists subscriptions with their counters, ring occupancy, rate and the slowest subscribers", async () => {
    const bus = await start({ ringBytes: 1 << 16 });
    const slow = await bus.subscribe("i", "*", { bufferSize: 4 });
    const fast = await bus.subscribe("i", "", { bufferSize: 100, overflow: "drop-newest", path: "p/*" });
    for (let i = 0; i < 10; i++) bus.send({ system: "i", kind: "k", path: `p/${i}` });
    const reader = fast[Symbol.asyncIterator]();
    for (let i = 0; i < 4; i++) await reader.next();
    const info = await bus.inspect();
    expect(info.subscriptions).toEqual([
      expect.objectContaining({
        id: slow.id,
        system: "i",
        kind: "*",
        bufferSize: 4,
        delivered: 4,
        buffered: 4,
      }),
      expect.objectContaining({ id: fast.id, overflow: "drop-newest", delivered: 4, dropped: 0 }),
    ]);
    expect(info.blockedOn).toBe(slow.id);
    expect(info.slowest[0]?.id).toBe(slow.id);
    expect(info.ring.capacity).toBe(1 << 16);
    expect(info.ring.usedBytes).toBeGreaterThan(0);
    expect(info.ring.occupancy).toBeCloseTo(info.ring.usedBytes / (1 << 16));
    expect(info.eventsRead).toBe(5);
    expect(info.eventsPerSecond.sinceStart).toBeGreaterThan(0);
    if (process.platform === "linux") expect(info.dispatcherCpuMs).toBeGreaterThanOrEqual(0);
    else expect(info.dispatcherCpuMs).toBeNull();
  });

  it("reports the dispatcher thread's own CPU time, which grows while it works", async () => {
    if (process.platform !== "linux") return;
    const bus = await start({ onFull: "drop" });
    const before = (await bus.inspect()).dispatcherCpuMs!;
    const sub = await bus.subscribe("cpu", "", { overflow: "drop-newest", bufferSize: 16 });
    const until = Date.now() + 300;
    while (Date.now() < until)
      for (let i = 0; i < 1000; i++) bus.send({ system: "cpu", kind: "k", path: "" });
    await bus.flush();
    const after = (await bus.inspect()).dispatcherCpuMs!;
    expect(after).toBeGreaterThan(before);
    await sub.close();
  });
});
