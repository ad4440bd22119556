import { afterEach, describe, expect, it, vi } from "vitest";
import {
  Bus,
  BusClosedError,
  BusFullError,
  DEFAULT_STOP_TIMEOUT_MS,
  InvalidOptionsError,
  parseBusEvent,
} from "../src/index.js";
import { event, Reader, rejectionCode } from "./contract/support.js";

const quiet = { warn: vi.fn(), error: vi.fn() };
const buses: Bus[] = [];
function makeBus(options: ConstructorParameters<typeof Bus>[0] = {}): Bus {
  const bus = new Bus({ logger: quiet, ...options });
  buses.push(bus);
  return bus;
}
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop()));
  vi.restoreAllMocks();
});

describe("Bus stop, exactly as the design specifies for the in-thread dispatcher", () => {
  it("applies what was queued before Stop in order, then drains what came after it", async () => {
    const bus = makeBus();
    const live = await bus.subscribe("s");
    const pendingSubscribe = bus.subscribe("s");
    const pendingUnsubscribe = bus.unsubscribe(live.id);
    for (let i = 0; i < 7; i++) bus.send(event("s", "k", String(i)));
    const stopped = bus.stop();
    // Queued behind Stop: resolves false (Stop removed every subscription first).
    const afterStop = bus.unsubscribe("sub.2");
    expect(await pendingUnsubscribe).toBe(true);
    const late = await pendingSubscribe;
    expect(await afterStop).toBe(false);
    await stopped;
    expect(bus.stats()).toMatchObject({ sent: 7, delivered: 7, droppedOnStop: 0, subscriptions: 0 });
    expect(live.stats().delivered).toBe(0);
    expect(await new Reader(live).rest()).toEqual([]);
    expect((await new Reader(late).rest()).map((e) => e.path)).toEqual(["0", "1", "2", "3", "4", "5", "6"]);
    expect(await rejectionCode(bus.subscribe("s"))).toBe("BUS_CLOSED");
  });

  it("rejects a subscribe made after stop() with BusClosedError 'bus is closed', before Stop is applied", async () => {
    const bus = makeBus();
    const stopped = bus.stop();
    const error = await bus.subscribe("s").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusClosedError);
    expect((error as Error).message).toBe("bus is closed");
    await stopped;
  });

  it("returns the same promise from every stop() call", () => {
    const bus = makeBus();
    expect(bus.stop()).toBe(bus.stop());
    expect(bus.stop({ timeoutMs: 0 })).toBe(bus.stop());
  });

  it("resolves stop within its default timeout when a 'block' subscriber never reads", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const bus = makeBus();
      const stuck = await bus.subscribe("s", "", { bufferSize: 1 });
      for (let i = 0; i < 5; i++) bus.send(event("s", "k"));
      let resolved = false;
      const stopped = bus.stop().then(() => {
        resolved = true;
      });
      await vi.advanceTimersByTimeAsync(DEFAULT_STOP_TIMEOUT_MS - 1);
      expect(resolved).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await stopped;
      expect(stuck.stats().delivered + bus.stats().droppedOnStop).toBe(5);
      expect(bus.stats().droppedOnStop).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("Bus subscribe signal", () => {
  it("a signal aborted while the subscribe is queued rejects ABORT_ERR, and no subscription is made", async () => {
    const bus = makeBus();
    const controller = new AbortController();
    const pending = bus.subscribe("s", "", { signal: controller.signal });
    controller.abort(new Error("gave up"));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ABORT_ERR", cause: new Error("gave up") });
    await bus.flush();
    expect(bus.stats().subscriptions).toBe(0);
    // The id was never used by a live subscription; the next one takes the next number.
    expect((await bus.subscribe("s")).id).toBe("sub.2");
  });
});

describe("Bus queue", () => {
  it("wakes the dispatcher once per burst of sends (coalesced wakeups)", async () => {
    const bus = makeBus();
    const sub = await bus.subscribe("s", "", { bufferSize: 1000 });
    const spy = vi.spyOn(globalThis, "queueMicrotask");
    for (let i = 0; i < 500; i++) bus.send(event("s", "k"));
    expect(spy).toHaveBeenCalledTimes(1);
    await bus.flush();
    expect(sub.stats().delivered).toBe(500);
  });

  it("throws BusFullError when the queue is at maxQueue with onFull 'throw'", () => {
    const bus = makeBus({ maxQueue: 3 });
    for (let i = 0; i < 3; i++) expect(bus.send(event("s", "k"))).toBe(true);
    expect(() => bus.send(event("s", "k"))).toThrow(BusFullError);
    expect(bus.stats()).toMatchObject({ sent: 3, queued: 3 });
  });

  it("returns false and counts the refusal with onFull 'drop'", async () => {
    const bus = makeBus({ maxQueue: 2, onFull: "drop" });
    expect([1, 2, 3, 4].map(() => bus.send(event("s", "k")))).toEqual([true, true, false, false]);
    expect(bus.stats()).toMatchObject({ sent: 2, refused: 2 });
    await bus.flush();
    expect(bus.send(event("s", "k"))).toBe(true);
  });

  it("validates bus options up front, naming the option", () => {
    for (const [options, name] of [
      [{ maxSubscribers: 0 }, "options.maxSubscribers"],
      [{ maxQueue: -1 }, "options.maxQueue"],
      [{ onFull: "wait" }, "options.onFull"],
      [{ logger: {} }, "options.logger"],
    ] as const) {
      let caught: unknown;
      try {
        new Bus(options as never);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidOptionsError);
      expect(caught).toMatchObject({ code: "INVALID_OPTIONS", option: name });
    }
  });

  it("names a subscriber that blocks the dispatcher longer than slowSubscriberMs", async () => {
    const logger = { warn: vi.fn(), error: vi.fn() };
    const bus = makeBus({ slowSubscriberMs: 20, logger });
    const slow = await bus.subscribe("s", "k", { bufferSize: 1 });
    bus.send(event("s", "k"));
    bus.send(event("s", "k"));
    await vi.waitFor(() => expect(logger.warn).toHaveBeenCalledTimes(1), { timeout: 2000 });
    expect(String(logger.warn.mock.calls[0]![0])).toContain(slow.id);
    await new Reader(slow).take(2);
    await bus.flush();
  });

  it("keeps delivering after a subscription whose consumer stopped reading is closed", async () => {
    const bus = makeBus();
    const stuck = await bus.subscribe("s", "", { bufferSize: 1 });
    const reader = new Reader(await bus.subscribe("s", "", { bufferSize: 100 }));
    for (let i = 0; i < 10; i++) bus.send(event("s", "k", String(i)));
    await reader.take(1);
    await stuck.close();
    expect((await reader.take(9)).map((e) => e.path)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  });

  it("rejects subscribe with BUS_CLOSED after stop, even with bad options", async () => {
    const bus = makeBus();
    await bus.stop();
    expect(await rejectionCode(bus.subscribe("x"))).toBe("BUS_CLOSED");
  });
});

describe("events", () => {
  it("parseBusEvent returns a valid event and keeps data as it is", () => {
    const data = { nested: [1, { a: "b" }] };
    expect(parseBusEvent({ system: "s", kind: "k", path: "", data })).toEqual({
      system: "s",
      kind: "k",
      path: "",
      data,
    });
  });
});

describe("nextBatch, the callback consumers' fast path", () => {
  it("hands over everything buffered at once, in order, then null after close", async () => {
    const bus = makeBus();
    const sub = await bus.subscribe("b", "", { bufferSize: 100 });
    for (let i = 0; i < 10; i++) bus.send(event("b", "k", String(i)));
    const first = await sub.nextBatch!();
    expect(first!.map((e) => e.path)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    const waiting = sub.nextBatch!();
    bus.send(event("b", "k", "10"));
    expect((await waiting)!.map((e) => e.path)).toEqual(["10"]);
    await sub.close();
    expect(await sub.nextBatch!()).toBeNull();
    expect(sub.stats()).toMatchObject({ delivered: 11, received: 11, buffered: 0 });
  });

  it("lets a blocked dispatcher go on once a batch is taken", async () => {
    const bus = makeBus();
    const sub = await bus.subscribe("b", "", { bufferSize: 3 });
    for (let i = 0; i < 9; i++) bus.send(event("b", "k", String(i)));
    const seen: string[] = [];
    while (seen.length < 9) seen.push(...(await sub.nextBatch!())!.map((e) => e.path));
    expect(seen).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8"]);
  });
});
