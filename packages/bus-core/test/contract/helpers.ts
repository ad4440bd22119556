import { afterEach, describe, expect, it, vi } from "vitest";
import { Awaiter, EventRouter, Subscriber } from "../../src/index.js";
import { Watcher } from "../../src/testing/index.js";
import { BusPool, type ContractSuiteOptions, event, type MakeBus, rejectionCode } from "./support.js";

function silentLogger() {
  return { warn: vi.fn(), error: vi.fn() };
}

export function helpersSuite(make: MakeBus, suite: Required<ContractSuiteOptions>): void {
  const pool = new BusPool(make);
  afterEach(() => pool.stopAll());

  describe("Subscriber", () => {
    it("calls the handler for each event in order and logs a handler that throws, then goes on", async () => {
      const bus = await pool.create();
      const logger = silentLogger();
      const seen: string[] = [];
      const subscriber = await Subscriber.start(
        bus,
        "s",
        undefined,
        async (e) => {
          if (e.path === "2") throw new Error("boom");
          seen.push(e.path);
        },
        { logger },
      );
      const watcher = await Watcher.start(bus, "s");
      for (let i = 0; i < 5; i++) bus.send(event("s", "k", String(i)));
      await watcher.waitFor(5);
      await bus.flush();
      await subscriber.close();
      expect(seen).toEqual(["0", "1", "3", "4"]);
      expect(subscriber.failed).toBe(1);
      expect(logger.error).toHaveBeenCalledTimes(1);
      expect(String(logger.error.mock.calls[0]![0])).toContain(subscriber.id);
    });
  });

  describe("EventRouter", () => {
    it("routes to each handler by its pattern and stops them all", async () => {
      const bus = await pool.create();
      const created: string[] = [];
      const updated: string[] = [];
      const logger = silentLogger();
      const router = await EventRouter.start(bus, {
        logger,
        handlers: [
          {
            pattern: () => ({ system: "registry", kind: "create" }),
            handle: (e) => void created.push(e.path),
          },
          {
            pattern: () => ({ system: "registry", kind: "*.update" }),
            handle: (e) => {
              if (e.path === "bad") throw new Error("handler failure");
              updated.push(e.path);
            },
          },
        ],
      });
      const watcher = await Watcher.start(bus, "registry");
      bus.send(event("registry", "create", "a"));
      bus.send(event("registry", "entry.update", "bad"));
      bus.send(event("registry", "entry.update", "b"));
      bus.send(event("registry", "delete", "c"));
      await watcher.waitFor(4);
      await watcher.close();
      await router.stop();
      expect(created).toEqual(["a"]);
      expect(updated).toEqual(["b"]);
      expect(logger.error).toHaveBeenCalledTimes(1);
      expect(bus.stats().subscriptions).toBe(0);
    });

    it("undoes a half-started router when a pattern is invalid", async () => {
      const bus = await pool.create();
      const start = EventRouter.start(bus, {
        handlers: [
          { pattern: () => ({ system: "ok" }), handle: () => {} },
          { pattern: () => ({ system: "(bad" }), handle: () => {} },
        ],
      });
      expect(await rejectionCode(start)).toBe("INVALID_PATTERN");
      await bus.flush();
      expect(bus.stats().subscriptions).toBe(0);
    });
  });

  describe("Awaiter", () => {
    it("resolves with the answer for the prepared path: accepted, or the error carried by data", async () => {
      const bus = await pool.create();
      const awaiter = new Awaiter(bus, "function");
      const ok = await awaiter.prepare("f/1");
      const failed = await awaiter.prepare("f/2");
      const other = await awaiter.prepare("f/3");
      bus.send(event("function", "register.accepted", "f/1"));
      bus.send(event("function", "register.rejected", "f/2", { error: { message: "quota exceeded" } }));
      bus.send(event("function", "progress", "f/3"));
      const [a, b, c] = await Promise.all([ok.wait(), failed.wait(), other.wait()]);
      expect(a).toMatchObject({ accepted: true, event: { path: "f/1" } });
      expect(a.error).toBeUndefined();
      expect(b.accepted).toBe(false);
      expect(b.error?.message).toBe("quota exceeded");
      expect(c.accepted).toBe(false);
      await awaiter.close();
    });

    it("shares one subscription among its waiters", async () => {
      const bus = await pool.create();
      const awaiter = new Awaiter(bus, "job", "(done|accept)");
      const waiters = await Promise.all(["1", "2", "3"].map((path) => awaiter.prepare(path)));
      expect(bus.stats().subscriptions).toBe(1);
      for (const path of ["3", "1", "2"]) bus.send(event("job", "accept", path));
      const results = await Promise.all(waiters.map((w) => w.wait()));
      expect(results.map((r) => r.event.path)).toEqual(["1", "2", "3"]);
      expect(results.every((r) => r.accepted)).toBe(true);
      await awaiter.close();
    });

    it("rejects with TIMEOUT when no answer comes, and with ABORT_ERR when aborted", async () => {
      const bus = await pool.create();
      const awaiter = new Awaiter(bus, "slow");
      const timedOut = await awaiter.prepare("x", { timeoutMs: 30 });
      const controller = new AbortController();
      const aborted = await awaiter.prepare("y", { signal: controller.signal });
      controller.abort(new Error("user gave up"));
      expect(await rejectionCode(timedOut.wait())).toBe("TIMEOUT");
      expect(await rejectionCode(aborted.wait())).toBe("ABORT_ERR");
      expect(awaiter.pending).toBe(0);
      expect(await rejectionCode(awaiter.prepare("z", { timeoutMs: -1 }))).toBe("INVALID_OPTIONS");
      await awaiter.close();
      expect(await rejectionCode(awaiter.prepare("z"))).toBe("BUS_CLOSED");
    });

    it("rejects pending waiters when the bus stops", async () => {
      const bus = await pool.create();
      const awaiter = new Awaiter(bus, "x");
      const waiter = await awaiter.prepare("p");
      await bus.stop();
      expect(await rejectionCode(waiter.wait())).toBe("BUS_CLOSED");
    });

    it("prepare() once the bus is stopping or stopped rejects BUS_CLOSED at once, not after its timeout", async () => {
      const bus = await pool.create();
      const awaiter = new Awaiter(bus, "x");
      await awaiter.prepare("p");
      const stopping = bus.stop();
      expect(await rejectionCode(awaiter.prepare("q", { timeoutMs: 60_000 }))).toBe("BUS_CLOSED");
      await stopping;
      expect(await rejectionCode(awaiter.prepare("r", { timeoutMs: 60_000 }))).toBe("BUS_CLOSED");
      expect(await rejectionCode(new Awaiter(bus, "y").prepare("s", { timeoutMs: 60_000 }))).toBe(
        "BUS_CLOSED",
      );
      expect(awaiter.pending).toBe(0);
    });

    it("resubscribes when its subscription was removed while the bus is open", async () => {
      const bus = await pool.create();
      const awaiter = new Awaiter(bus, "x");
      const first = await awaiter.prepare("p");
      expect(await bus.unsubscribe("sub.1")).toBe(true);
      expect(await rejectionCode(first.wait())).toBe("BUS_CLOSED");
      const second = await awaiter.prepare("p", { timeoutMs: 10_000 });
      bus.send(event("x", "accept", "p"));
      expect(await second.wait()).toMatchObject({ accepted: true, event: { path: "p" } });
      await awaiter.close();
    });

    it.runIf(suite.orderedStop)("a waiter gets an answer sent before stop()", async () => {
      const bus = await pool.create();
      const awaiter = new Awaiter(bus, "x");
      const waiter = await awaiter.prepare("p");
      bus.send(event("x", "accepted", "p"));
      const stopping = bus.stop();
      expect(await waiter.wait()).toMatchObject({ accepted: true, event: { path: "p" } });
      await stopping;
    });
  });

  describe("Watcher", () => {
    it("expectExactly fails on a missing, extra or out-of-order event", async () => {
      const bus = await pool.create();
      const watcher = await Watcher.start(bus, "w");
      bus.send(event("w", "a"));
      bus.send(event("w", "b"));
      await watcher.expectExactly([{ kind: "a" }, { kind: "b" }]);
      await expect(watcher.expectExactly([{ kind: "b" }, { kind: "a" }], 50)).rejects.toThrow(/#0/);
      await expect(watcher.expectExactly([{ kind: "a" }], 50)).rejects.toThrow(/expected 1 events, got 2/);
      await watcher.close();
    });
  });
}
