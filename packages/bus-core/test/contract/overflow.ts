import { afterEach, describe, expect, it } from "vitest";
import { BusPool, event, type MakeBus, Reader, settlesWithin } from "./support.js";

export function overflowSuite(make: MakeBus): void {
  const pool = new BusPool(make);
  afterEach(() => pool.stopAll());

  describe("overflow policies", () => {
    it("drop-newest keeps the first bufferSize events and counts the rest", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("o", "", { bufferSize: 4, overflow: "drop-newest" });
      for (let i = 0; i < 10; i++) bus.send(event("o", "k", String(i)));
      await bus.flush();
      expect(sub.stats()).toMatchObject({ delivered: 4, dropped: 6, buffered: 4 });
      // A drop is no delivery: the bus counts 4 delivered, 6 dropped (not 10 delivered).
      expect(bus.stats()).toMatchObject({ delivered: 4, dropped: 6 });
      await sub.close();
      expect((await new Reader(sub).rest()).map((e) => e.path)).toEqual(["0", "1", "2", "3"]);
    });

    it("drop-oldest keeps the last bufferSize events and counts the rest", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("o", "", { bufferSize: 4, overflow: "drop-oldest" });
      for (let i = 0; i < 10; i++) bus.send(event("o", "k", String(i)));
      await bus.flush();
      expect(sub.stats()).toMatchObject({ dropped: 6, buffered: 4 });
      await sub.close();
      expect((await new Reader(sub).rest()).map((e) => e.path)).toEqual(["6", "7", "8", "9"]);
      expect(bus.stats().dropped).toBe(6);
    });

    it("block loses nothing: the dispatcher waits for the consumer", async () => {
      const bus = await pool.create();
      const reader = new Reader(await bus.subscribe("o", "", { bufferSize: 2 }));
      for (let i = 0; i < 200; i++) bus.send(event("o", "k", String(i)));
      expect(await settlesWithin(bus.flush(), 50)).toBe(false);
      const received = await reader.take(200);
      expect(received.map((e) => Number(e.path))).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(reader.subscription.stats().dropped).toBe(0);
      expect(bus.stats().dropped).toBe(0);
    });

    it("a blocked subscriber holds back others (back-pressure is global) until it reads", async () => {
      const bus = await pool.create();
      const slow = new Reader(await bus.subscribe("o", "", { bufferSize: 1 }));
      const fast = new Reader(await bus.subscribe("o", "", { bufferSize: 100 }));
      for (let i = 0; i < 5; i++) bus.send(event("o", "k", String(i)));
      // Event 0 fills the slow subscriber's buffer of one; event 1 waits on it, ahead of the fast one.
      expect((await fast.take(1)).map((e) => e.path)).toEqual(["0"]);
      expect(await settlesWithin(fast.take(1), 50)).toBe(false);
      await slow.take(5);
      expect(fast.subscription.stats().delivered).toBe(5);
    });

    it("a drop policy subscriber never holds back the others", async () => {
      const bus = await pool.create();
      const dropping = await bus.subscribe("o", "", { bufferSize: 1, overflow: "drop-newest" });
      const reader = new Reader(await bus.subscribe("o", "", { bufferSize: 1000 }));
      for (let i = 0; i < 500; i++) bus.send(event("o", "k", String(i)));
      expect((await reader.take(500)).length).toBe(500);
      expect(dropping.stats()).toMatchObject({ delivered: 1, dropped: 499 });
    });
  });
}
