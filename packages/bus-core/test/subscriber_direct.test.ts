import { afterEach, describe, expect, it, vi } from "vitest";
import { type BufferedSubscription, Bus, type BusEvent, Subscriber } from "../src/index.js";
import { consumeDirectly, type DirectConsumer, endDirect, handleDirect } from "../src/subscription.js";
import { event } from "./contract/support.js";

/**
 * On the in-thread Bus a Subscriber's handler is called by the dispatcher as it delivers (no
 * promise or loop per event). These tests hold that path to the Subscriber's rules: one event at
 * a time, in order, an async handler holding the next events back under the overflow policy,
 * failures logged and counted, and `done` only after everything delivered was handled.
 */

const buses: Bus[] = [];
function makeBus(): Bus {
  const bus = new Bus({ logger: { warn: vi.fn(), error: vi.fn() } });
  buses.push(bus);
  return bus;
}
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop()));
});

function silentLogger() {
  return { warn: vi.fn(), error: vi.fn() };
}

/** A promise and its resolver, for handlers that wait on the test. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe("Subscriber on the in-thread Bus (handler called as the bus delivers)", () => {
  it("handles every event once, in order, and counts them on the subscription as received", async () => {
    const bus = makeBus();
    const seen: string[] = [];
    const subscriber = await Subscriber.start(bus, "s", "k", (e) => void seen.push(e.path));
    for (let i = 0; i < 500; i++) bus.send(event("s", "k", String(i)));
    await bus.flush();
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
    expect(subscriber.handled).toBe(500);
    expect(subscriber.subscription.stats()).toMatchObject({ delivered: 500, received: 500, buffered: 0 });
    await subscriber.close();
  });

  it("never calls the handler inside send(): the event is handled after the sender's code", async () => {
    const bus = makeBus();
    const order: string[] = [];
    const subscriber = await Subscriber.start(bus, "s", "k", () => void order.push("handled"));
    bus.send(event("s", "k", "1"));
    order.push("after send");
    await bus.flush();
    expect(order).toEqual(["after send", "handled"]);
    await subscriber.close();
  });

  it("runs an async handler one event at a time, buffering what arrives meanwhile, in order", async () => {
    const bus = makeBus();
    const seen: string[] = [];
    let running = 0;
    let most = 0;
    const subscriber = await Subscriber.start(bus, "s", "k", async (e) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(e.path);
      running--;
    });
    for (let i = 0; i < 20; i++) bus.send(event("s", "k", String(i)));
    await bus.flush();
    expect(subscriber.subscription.stats().buffered).toBeGreaterThan(0);
    await subscriber.close();
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(most).toBe(1);
  });

  it("applies drop-newest while an async handler holds the stream, and counts the drops", async () => {
    const bus = makeBus();
    const held = gate();
    const seen: string[] = [];
    const subscriber = await Subscriber.start(
      bus,
      "s",
      "k",
      async (e) => {
        seen.push(e.path);
        if (e.path === "0") await held.promise;
      },
      { bufferSize: 2, overflow: "drop-newest" },
    );
    for (let i = 0; i < 10; i++) bus.send(event("s", "k", String(i)));
    await bus.flush();
    held.open();
    await subscriber.close();
    expect(seen).toEqual(["0", "1", "2"]);
    expect(subscriber.subscription.stats()).toMatchObject({ delivered: 3, received: 3, dropped: 7 });
    expect(bus.stats().dropped).toBe(7);
  });

  it("back-pressures the dispatcher under block, and hands every event over in the end", async () => {
    const bus = makeBus();
    const seen: number[] = [];
    const subscriber = await Subscriber.start(
      bus,
      "s",
      "k",
      async (e) => {
        await new Promise((resolve) => setImmediate(resolve));
        seen.push(Number(e.path));
      },
      { bufferSize: 4, overflow: "block" },
    );
    for (let i = 0; i < 200; i++) bus.send(event("s", "k", String(i)));
    await bus.flush();
    await subscriber.close();
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(subscriber.subscription.stats()).toMatchObject({ delivered: 200, received: 200, dropped: 0 });
  });

  it("logs and counts a handler that throws or rejects, and goes on with the next event", async () => {
    const bus = makeBus();
    const logger = silentLogger();
    const seen: string[] = [];
    const subscriber = await Subscriber.start(
      bus,
      "s",
      "k",
      (e) => {
        if (e.path === "1") throw new Error("sync failure");
        if (e.path === "3") return Promise.reject(new Error("async failure"));
        seen.push(e.path);
        return undefined;
      },
      { logger },
    );
    for (let i = 0; i < 5; i++) bus.send(event("s", "k", String(i)));
    await bus.flush();
    await subscriber.close();
    expect(seen).toEqual(["0", "2", "4"]);
    expect(subscriber.handled).toBe(5);
    expect(subscriber.failed).toBe(2);
    expect(logger.error).toHaveBeenCalledTimes(2);
    expect(String(logger.error.mock.calls[1]![0])).toContain("'3'");
  });

  it("close() while an async handler runs resolves after the events buffered behind it", async () => {
    const bus = makeBus();
    const held = gate();
    const seen: string[] = [];
    const subscriber = await Subscriber.start(bus, "s", "k", async (e) => {
      if (e.path === "0") await held.promise;
      seen.push(e.path);
    });
    for (let i = 0; i < 4; i++) bus.send(event("s", "k", String(i)));
    await bus.flush();
    let closed = false;
    const closing = subscriber.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(closed).toBe(false);
    held.open();
    await closing;
    expect(seen).toEqual(["0", "1", "2", "3"]);
  });

  it("handles an event its own handler sends after the current one, not inside it", async () => {
    const bus = makeBus();
    const trace: string[] = [];
    const subscriber = await Subscriber.start(bus, "s", "k", (e) => {
      trace.push(`start ${e.path}`);
      if (e.path === "a") bus.send(event("s", "k", "b"));
      trace.push(`end ${e.path}`);
    });
    bus.send(event("s", "k", "a"));
    await bus.flush();
    await bus.flush();
    expect(trace).toEqual(["start a", "end a", "start b", "end b"]);
    await subscriber.close();
  });

  it("resolves done when the bus stops", async () => {
    const bus = makeBus();
    const subscriber = await Subscriber.start(bus, "s", "k", () => {});
    bus.send(event("s", "k", "1"));
    await bus.stop();
    await subscriber.done;
    expect(subscriber.handled).toBe(1);
  });
});

describe("BufferedSubscription's direct consumer", () => {
  function recorder(): DirectConsumer<unknown> & { events: string[]; ended: unknown[] } {
    const events: string[] = [];
    const ended: unknown[] = [];
    return {
      events,
      ended,
      [handleDirect]: (e: BusEvent) => {
        events.push(e.path);
        return undefined;
      },
      [endDirect]: (error: unknown) => void ended.push(error),
    };
  }

  it("hands over what was buffered before it came, after the attaching call, then the rest", async () => {
    const bus = makeBus();
    const subscription = (await bus.subscribe("s", "k")) as BufferedSubscription;
    for (let i = 0; i < 3; i++) bus.send(event("s", "k", String(i)));
    await bus.flush();
    const consumer = recorder();
    subscription[consumeDirectly](consumer);
    expect(consumer.events).toEqual([]);
    bus.send(event("s", "k", "3"));
    await bus.flush();
    expect(consumer.events).toEqual(["0", "1", "2", "3"]);
    await subscription.close();
    expect(consumer.ended).toEqual([undefined]);
  });

  it("refuses a subscription that is already iterated", async () => {
    const bus = makeBus();
    const subscription = (await bus.subscribe("s", "k")) as BufferedSubscription;
    subscription[Symbol.asyncIterator]();
    expect(() => subscription[consumeDirectly](recorder())).toThrow(TypeError);
  });

  it("ends a consumer that attaches to an ended subscription once, with nothing handled", async () => {
    const bus = makeBus();
    const subscription = (await bus.subscribe("s", "k")) as BufferedSubscription;
    await subscription.close();
    const consumer = recorder();
    subscription[consumeDirectly](consumer);
    await Promise.resolve();
    expect(consumer.ended).toEqual([undefined]);
    expect(consumer.events).toEqual([]);
  });
});
