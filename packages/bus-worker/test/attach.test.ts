import type { BusEvent } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { attachedThread, nextMessage, useBuses } from "./support.js";

describe("attach", () => {
  const start = useBuses();

  it("publishers in two threads share the ring: every event arrives once, in publish order per thread", async () => {
    const bus = await start();
    const sub = await bus.subscribe("pub", "**", { bufferSize: 256 });
    const count = 20_000;
    const threads = ["a", "b"].map((name) => attachedThread(bus, { role: "publisher", name, count }));
    const exited = threads.map((thread) => new Promise((resolve) => thread.once("exit", resolve)));
    for (const thread of threads) thread.postMessage("go");
    const seen: BusEvent[] = [];
    for await (const e of sub) {
      seen.push(e);
      if (seen.length === 2 * count) break;
    }
    for (const name of ["a", "b"]) {
      const mine = seen.filter((e) => e.kind === name).map((e) => (e.data as { i: number }).i);
      expect(mine).toEqual(Array.from({ length: count }, (_, i) => i));
    }
    expect(await Promise.all(exited)).toEqual([0, 0]);
    expect(bus.stats().sent).toBe(2 * count);
  });

  it("a subscriber in another thread sees the same global order as one on the main thread", async () => {
    const bus = await start();
    const local = await bus.subscribe("pub", "**");
    const count = 3000;
    const remote = attachedThread(bus, { role: "subscriber", count });
    expect(await nextMessage(remote)).toBe("subscribed");
    const publisher = attachedThread(bus, { role: "publisher", name: "p", count: count / 2 });
    publisher.postMessage("go");
    for (let i = 0; i < count / 2; i++) bus.send({ system: "pub", kind: "main", path: `main:${i}` });
    const seenRemote = nextMessage<string[]>(remote);
    const seenLocal: string[] = [];
    for await (const e of local) {
      seenLocal.push(e.path);
      if (seenLocal.length === count) break;
    }
    expect(await seenRemote).toEqual(seenLocal);
    await new Promise((resolve) => remote.once("exit", resolve));
  });

  it("stop() on an attached bus detaches that thread only: its subscriptions end, the bus goes on", async () => {
    const bus = await start();
    const remote = attachedThread(bus, { role: "subscriber", count: 1 });
    expect(await nextMessage(remote)).toBe("subscribed");
    expect(bus.stats().subscriptions).toBe(1);
    bus.send({ system: "pub", kind: "x", path: "only" });
    expect(await nextMessage(remote)).toEqual(["only"]);
    expect(await new Promise((resolve) => remote.once("exit", resolve))).toBe(0);
    await bus.flush();
    expect(bus.stats().subscriptions).toBe(0);
    expect(bus.closed).toBe(false);
    expect(bus.send({ system: "pub", kind: "x", path: "after" })).toBe(true);
  });

  it("refuses more handles than maxClients with INVALID_OPTIONS", async () => {
    const bus = await start({ maxClients: 3 });
    const handles = [bus.handle(), bus.handle()];
    expect(() => bus.handle()).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    for (const handle of handles) handle.port.close();
  });
});

describe("handle", () => {
  const start = useBuses();

  it("refuses a handle after stop with BUS_CLOSED", async () => {
    const bus = await start();
    await bus.stop();
    expect(() => bus.handle()).toThrow(expect.objectContaining({ code: "BUS_CLOSED" }));
  });
});

describe("stop across threads", () => {
  const start = useBuses();

  it("a stop mid-stream accounts for every send accepted in any thread: delivered or droppedOnStop", async () => {
    const bus = await start({ ringBytes: 1 << 16, onFull: "drop" });
    const sub = await bus.subscribe("pub", "**", { bufferSize: 100_000 });
    const threads = ["x", "y"].map((name) => attachedThread(bus, { role: "flood", name }));
    await Promise.all(threads.map((thread) => nextMessage(thread)));
    const accepted = threads.map((thread) => nextMessage<number>(thread));
    let main = 0;
    while (bus.stats().sent < 20_000) {
      if (bus.send({ system: "pub", kind: "main", path: `main:${main}`, data: main })) main++;
      if (main % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await bus.stop();
    const perThread = await Promise.all(accepted);
    const received: Array<{ kind: string; data: number }> = [];
    for await (const e of sub) received.push({ kind: e.kind, data: e.data as number });
    const total = main + perThread[0]! + perThread[1]!;
    const stats = bus.stats();
    expect(stats.sent).toBe(total);
    expect(received.length + stats.droppedOnStop).toBe(total);
    // What was delivered is a prefix of each thread's stream, in order.
    for (const name of ["main", "x", "y"]) {
      const mine = received.filter((e) => e.kind === name).map((e) => e.data);
      expect(mine).toEqual(Array.from({ length: mine.length }, (_, i) => i));
    }
  });
});
