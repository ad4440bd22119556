import { type BusEvent, Subscriber } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { WorkerBus } from "../dist/index.js";
import { attachedThread, codeOf, nextMessage, useBuses } from "./support.js";

const event = (system: string, kind: string, path = "", data?: unknown): BusEvent =>
  data === undefined ? { system, kind, path } : { system, kind, path, data };

describe("WorkerBus options and input", () => {
  const start = useBuses();

  it("rejects bad options with INVALID_OPTIONS naming the option", async () => {
    for (const [options, option] of [
      [{ ringBytes: 1000 }, "options.ringBytes"],
      [{ ringBytes: 512 }, "options.ringBytes"],
      [{ onFull: "block" }, "options.onFull"],
      [{ maxWaitMs: -1 }, "options.maxWaitMs"],
      [{ maxSubscribers: 0 }, "options.maxSubscribers"],
      [{ logger: {} }, "options.logger"],
    ] as const) {
      let caught: unknown;
      try {
        await start(options as never);
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(options)).toMatchObject({ code: "INVALID_OPTIONS", option });
    }
  });

  it("carries strings, bytes, dates, maps, sets, bigints and nested objects unchanged", async () => {
    const bus = await start();
    const sub = await bus.subscribe("d");
    const values: unknown[] = [
      "héllo ✓",
      "",
      new Uint8Array([1, 2, 255]),
      new Date(1_700_000_000_000),
      new Map<string, unknown>([["a", { b: [1, 2] }]]),
      new Set([1, "x"]),
      12n,
      new Map([[1, new Set([2])]]),
      { error: new RangeError("bad") },
      { deep: { list: [1, "two", null, true], n: -1.5 } },
      0,
      null,
    ];
    for (const [i, data] of values.entries()) bus.send(event("d", "v", String(i), data));
    const iterator = sub[Symbol.asyncIterator]();
    for (const [i, data] of values.entries()) {
      const { value } = await iterator.next();
      expect(value, `value ${i}`).toEqual({ system: "d", kind: "v", path: String(i), data });
    }
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    bus.send(event("d", "cyclic", "", cyclic));
    const { value: loop } = await iterator.next();
    const received = (loop as BusEvent<Record<string, unknown>>).data!;
    expect(received.self).toBe(received);
    bus.send(event("d", "none"));
    const { value: last } = await iterator.next();
    expect(last).toEqual({ system: "d", kind: "none", path: "" });
    expect("data" in (last as object)).toBe(false);
  });

  it("refuses data that cannot be cloned with INVALID_EVENT naming data, and enqueues nothing", async () => {
    const bus = await start();
    for (const data of [() => 1, { f: () => 1 }, [Symbol("s")], new Map([["f", () => 1]])]) {
      let caught: unknown;
      try {
        bus.send(event("x", "k", "", data));
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: "INVALID_EVENT", field: "data" });
    }
    await bus.flush();
    expect(bus.stats().sent).toBe(0);
  });

  it("refuses an event larger than a quarter of the ring with INVALID_EVENT (RecordTooLargeError)", async () => {
    const bus = await start({ ringBytes: 1024 });
    let caught: unknown;
    try {
      bus.send(event("big", "k", "", "x".repeat(300)));
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ name: "RecordTooLargeError", code: "INVALID_EVENT", field: "data" });
    expect((caught as Error).message).toContain("256 bytes");
    expect(bus.send(event("big", "k", "", "x".repeat(100)))).toBe(true);
    expect(bus.stats().sent).toBe(1);
  });
});

describe("WorkerBus full ring", () => {
  const start = useBuses();

  /** A subscriber that never reads holds the dispatcher, so the ring fills up. */
  async function stalled(onFull: "wait" | "throw" | "drop") {
    const bus = await start({ ringBytes: 1024, onFull, maxWaitMs: 20 });
    await bus.subscribe("f", "", { bufferSize: 1 });
    return bus;
  }

  it('onFull "throw" throws BUS_FULL once the ring has no room', async () => {
    const bus = await stalled("throw");
    let accepted = 0;
    const code = await codeOf(() => {
      for (let i = 0; i < 1000; i++) if (bus.send(event("f", "k", String(i)))) accepted++;
    });
    expect(code).toBe("BUS_FULL");
    expect(accepted).toBeGreaterThan(5);
    expect(accepted).toBeLessThan(30);
    expect(bus.stats().sent).toBe(accepted);
  });

  it('onFull "drop" returns false and counts every refused event', async () => {
    const bus = await stalled("drop");
    let refused = 0;
    for (let i = 0; i < 100; i++) if (!bus.send(event("f", "k", String(i)))) refused++;
    expect(refused).toBeGreaterThan(50);
    expect(bus.stats().refused).toBe(refused);
    expect(bus.stats().sent).toBe(100 - refused);
  });

  it('refuses onFull "wait" on the main thread (Atomics.wait would freeze its event loop) and defaults to "throw" there', async () => {
    expect(await codeOf(() => WorkerBus.start({ onFull: "wait" }))).toBe("INVALID_OPTIONS");
    const bus = await start({ ringBytes: 1024 });
    await bus.subscribe("f", "", { bufferSize: 1 });
    const before = performance.now();
    const code = await codeOf(() => {
      for (let i = 0; i < 1000; i++) bus.send(event("f", "k", String(i)));
    });
    expect(code).toBe("BUS_FULL");
    // No blocking wait happened on this thread: a full ring is reported at once.
    expect(performance.now() - before).toBeLessThan(1000);
  });

  it('in a worker, onFull "wait" (the default there) blocks up to maxWaitMs, then throws BUS_FULL', async () => {
    const bus = await start({ ringBytes: 1024, maxWaitMs: 50 });
    await bus.subscribe("f", "", { bufferSize: 1 });
    const filler = attachedThread(bus, { role: "fill-until-full", name: "w" });
    const report = await nextMessage<{ code: string; accepted: number; waitedMs: number }>(filler);
    expect(report.code).toBe("BUS_FULL");
    expect(report.accepted).toBeGreaterThan(5);
    expect(report.waitedMs).toBeGreaterThanOrEqual(45);
    await new Promise((resolve) => filler.once("exit", resolve));
  });

  it("ready() and sendAsync() wait for room without blocking the main thread, and lose nothing", async () => {
    const bus = await start({ ringBytes: 1024 });
    const sub = await bus.subscribe("f", "", { bufferSize: 1 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const sending = (async () => {
      for (let i = 0; i < 200; i++) expect(await bus.sendAsync(event("f", "k", String(i)))).toBe(true);
    })();
    // The publisher is stuck on a full ring; the event loop still runs.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ticks).toBeGreaterThan(3);
    const paths: string[] = [];
    for await (const e of sub) {
      paths.push(e.path);
      if (paths.length === 200) break;
    }
    await sending;
    clearInterval(timer);
    expect(paths).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    expect(bus.stats()).toMatchObject({ sent: 200, refused: 0 });
    await bus.ready();
  });

  it("sendAsync() rejects with ABORT_ERR when its signal aborts while it waits for room", async () => {
    const bus = await start({ ringBytes: 1024 });
    await bus.subscribe("f", "", { bufferSize: 1 });
    const controller = new AbortController();
    const waiting = (async () => {
      for (;;) await bus.sendAsync(event("f", "k", "x"), { signal: controller.signal });
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await codeOf(waiting)).toBe("ABORT_ERR");
  });

  it("a full ring does not lose control actions: unsubscribe still goes through once there is room", async () => {
    const bus = await stalled("drop");
    for (let i = 0; i < 100; i++) bus.send(event("f", "k", String(i)));
    // The ring is full and the dispatcher blocked on sub.1: the subscribe waits for room, and
    // unsubscribing sub.1 (which lifts its limit at once, over its port) frees both.
    const extra = bus.subscribe("other");
    expect(await bus.unsubscribe("sub.1")).toBe(true);
    expect(await extra).toMatchObject({ id: "sub.2" });
    expect(bus.stats().subscriptions).toBe(1);
  });
});

describe("WorkerBus slow subscribers", () => {
  const start = useBuses();

  it("names a block subscriber that holds the dispatcher past slowSubscriberMs in a logger warning", async () => {
    const warnings: string[] = [];
    const logger = { warn: (message: string) => void warnings.push(message), error: () => undefined };
    const bus = await start({ slowSubscriberMs: 50, logger });
    const slow = await bus.subscribe("s", "k", { bufferSize: 1 });
    for (let i = 0; i < 3; i++) bus.send(event("s", "k", String(i)));
    const deadline = Date.now() + 10_000;
    while (warnings.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(slow.id);
    expect(warnings[0]).toContain("buffer of 1 is full");
  });
});

describe("WorkerBus with the core helpers", () => {
  const start = useBuses();

  it("a core Subscriber (batch fast path) takes every event in order through a buffer of 2", async () => {
    const bus = await start();
    const seen: number[] = [];
    const subscriber = await Subscriber.start(
      bus,
      "h",
      undefined,
      (e) => {
        seen.push(e.data as number);
      },
      { bufferSize: 2 },
    );
    for (let i = 0; i < 2000; i++) bus.send(event("h", "k", "", i));
    const deadline = Date.now() + 15_000;
    while (seen.length < 2000 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    await subscriber.close();
    expect(bus.stats()).toMatchObject({ delivered: 2000, dropped: 0 });
  });
});
