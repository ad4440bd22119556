import { afterEach, describe, expect, it } from "vitest";
import type { BusEvent } from "../../src/index.js";
import {
  BusPool,
  type ContractSuiteOptions,
  event,
  type MakeBus,
  Reader,
  rejectionCode,
  settlesWithin,
} from "./support.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const paths = (events: BusEvent[]) => events.map((e) => Number(e.path));
const kinds = (events: BusEvent[]) => events.map((e) => e.kind);

export function stopSuite(make: MakeBus, suite: Required<ContractSuiteOptions>): void {
  const pool = new BusPool(make);
  afterEach(() => pool.stopAll());

  describe("stop", () => {
    it("sets closed at once; after stop, subscribe rejects BUS_CLOSED and send returns false", async () => {
      const bus = await pool.create();
      const stopped = bus.stop();
      expect(bus.closed).toBe(true);
      expect(bus.send(event("s", "k"))).toBe(false);
      expect(await rejectionCode(bus.subscribe("s"))).toBe("BUS_CLOSED");
      await stopped;
      expect(await rejectionCode(bus.subscribe("s"))).toBe("BUS_CLOSED");
      expect(bus.send(event("s", "k"))).toBe(false);
      expect(await bus.unsubscribe("sub.1")).toBe(false);
    });

    it("is idempotent and ends every iterator after its buffered events", async () => {
      const bus = await pool.create();
      const a = new Reader(await bus.subscribe("a"));
      const b = new Reader(await bus.subscribe("**"));
      bus.send(event("a", "1"));
      await bus.flush();
      await Promise.all([bus.stop(), bus.stop()]);
      await bus.stop();
      expect(kinds(await a.rest())).toEqual(["1"]);
      expect(kinds(await b.rest())).toEqual(["1"]);
      expect(bus.stats().subscriptions).toBe(0);
    });

    it("accounts for every event sent before stop: delivered, or counted in droppedOnStop", async () => {
      const bus = await pool.create();
      const reader = new Reader(await bus.subscribe("s", "", { bufferSize: 10_000 }));
      let accepted = 0;
      for (let i = 0; i < 5000; i++) if (bus.send(event("s", "k", String(i)))) accepted++;
      const pendingSubscribe = bus.subscribe("late");
      await bus.stop();
      const received = await reader.rest();
      expect(received.length + bus.stats().droppedOnStop).toBe(accepted);
      expect(paths(received)).toEqual(range(received.length));
      const outcome = await pendingSubscribe.then(
        async (sub) => (await new Reader(sub).rest()).length,
        (error: { code?: string }) => error.code,
      );
      expect([0, "BUS_CLOSED"]).toContain(outcome);
    });

    it("releases a dispatcher blocked on a full subscriber that never reads, so stop never hangs", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("s", "", { bufferSize: 1 });
      for (let i = 0; i < 5; i++) bus.send(event("s", "k", String(i)));
      expect(await settlesWithin(bus.flush(), 50)).toBe(false);
      await bus.stop({ timeoutMs: 200 });
      const received = await new Reader(sub).rest();
      expect(received.length + bus.stats().droppedOnStop).toBe(5);
    });
  });

  describe.runIf(suite.orderedStop)("ordered stop", () => {
    it("delivers every send accepted before stop() before the iterators end", async () => {
      const bus = await pool.create();
      // A small "block" buffer read as events come: the dispatcher must keep waiting for it.
      const reading = new Reader(await bus.subscribe("s", "", { bufferSize: 16 }));
      const buffered = await bus.subscribe("**", "", { bufferSize: 10_000 });
      for (let i = 0; i < 5000; i++) expect(bus.send(event("s", "k", String(i)))).toBe(true);
      const stopped = bus.stop();
      expect(bus.send(event("s", "k", "after"))).toBe(false);
      expect(paths(await reading.rest())).toEqual(range(5000));
      await stopped;
      // A subscription read only after stop resolved still yields everything it was given.
      expect(paths(await new Reader(buffered).rest())).toEqual(range(5000));
      expect(bus.stats()).toMatchObject({ sent: 5000, droppedOnStop: 0, subscriptions: 0 });
    });

    it("applies an unsubscribe and a subscribe queued before stop(), in order", async () => {
      const bus = await pool.create();
      const first = await bus.subscribe("s");
      const firstReader = new Reader(first);
      bus.send(event("s", "1"));
      const unsubscribed = bus.unsubscribe(first.id);
      const subscribed = bus.subscribe("s");
      bus.send(event("s", "2"));
      const stopped = bus.stop();
      expect(await unsubscribed).toBe(true);
      const second = await subscribed;
      expect(kinds(await firstReader.rest())).toEqual(["1"]);
      expect(kinds(await new Reader(second).rest())).toEqual(["2"]);
      await stopped;
      expect(bus.stats()).toMatchObject({ droppedOnStop: 0, subscriptions: 0 });
    });

    it("waits for a slow 'block' subscriber that reads", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("s", "", { bufferSize: 1 });
      for (let i = 0; i < 10; i++) bus.send(event("s", "k", String(i)));
      const stopped = bus.stop();
      expect(await settlesWithin(stopped, 50)).toBe(false);
      expect(paths(await new Reader(sub).rest())).toEqual(range(10));
      await stopped;
      expect(bus.stats().droppedOnStop).toBe(0);
    });

    it("stop({ timeoutMs }) drops and counts whole sends that a 'block' subscriber which never reads holds up", async () => {
      const bus = await pool.create();
      const stuck = await bus.subscribe("s", "", { bufferSize: 2 });
      const reader = new Reader(await bus.subscribe("**", "", { bufferSize: 100 }));
      for (let i = 0; i < 20; i++) bus.send(event("s", "k", String(i)));
      await bus.stop({ timeoutMs: 100 });
      const { droppedOnStop } = bus.stats();
      expect(droppedOnStop).toBeGreaterThan(0);
      const stuckGot = paths(await new Reader(stuck).rest());
      const readerGot = paths(await reader.rest());
      // Each send reached every subscriber, or was dropped for all of them and counted once.
      expect(stuckGot).toEqual(range(20 - droppedOnStop));
      expect(readerGot).toEqual(range(20 - droppedOnStop));
    });

    it("a later stop({ timeoutMs: 0 }) cuts short a stop that is waiting", async () => {
      const bus = await pool.create();
      const stuck = await bus.subscribe("s", "", { bufferSize: 1 });
      for (let i = 0; i < 5; i++) bus.send(event("s", "k", String(i)));
      const first = bus.stop();
      expect(await settlesWithin(first, 50)).toBe(false);
      await bus.stop({ timeoutMs: 0 });
      await first;
      const { droppedOnStop } = bus.stats();
      expect(droppedOnStop).toBeGreaterThan(0);
      expect((await new Reader(stuck).rest()).length + droppedOnStop).toBe(5);
    });

    it("rejects bad stop options with INVALID_OPTIONS, and stays open", async () => {
      const bus = await pool.create();
      const bad = [
        { timeoutMs: -1 },
        { timeoutMs: Number.NaN },
        { timeoutMs: Number.POSITIVE_INFINITY },
        { timeoutMs: 1.5 },
        { timeoutMs: 2 ** 31 },
        { timeoutMs: "5" },
        { timeuotMs: 5 },
        5,
        "now",
      ];
      for (const options of bad) {
        expect(await rejectionCode(bus.stop(options as never)), JSON.stringify(options)).toBe(
          "INVALID_OPTIONS",
        );
      }
      expect(bus.closed).toBe(false);
      const reader = new Reader(await bus.subscribe("s"));
      bus.send(event("s", "still open"));
      expect(kinds(await reader.take(1))).toEqual(["still open"]);
    });
  });
}
