import { afterEach, describe, expect, it } from "vitest";
import {
  BusPool,
  type ContractSuiteOptions,
  event,
  type MakeBus,
  Reader,
  rejectionCode,
  settlesWithin,
} from "./support.js";

export function basicsSuite(make: MakeBus, suite: Required<ContractSuiteOptions>): void {
  const pool = new BusPool(make);
  afterEach(() => pool.stopAll());

  describe("subscribe and send", () => {
    it("delivers a sent event to a matching subscription, unchanged", async () => {
      const bus = await pool.create();
      const reader = new Reader(await bus.subscribe("registry", "create"));
      expect(bus.send(event("registry", "create", "e/1", { name: "a", n: [1, 2] }))).toBe(true);
      const [received] = await reader.take(1);
      expect(received).toEqual({
        system: "registry",
        kind: "create",
        path: "e/1",
        data: { name: "a", n: [1, 2] },
      });
    });

    it("delivers an event sent right after subscribe resolved", async () => {
      const bus = await pool.create();
      for (let i = 0; i < 20; i++) {
        const sub = await bus.subscribe("late", "k");
        bus.send(event("late", "k", String(i)));
        const [received] = await new Reader(sub).take(1);
        expect(received!.path).toBe(String(i));
        await sub.close();
      }
    });

    it("treats an omitted or empty kind as every kind", async () => {
      const bus = await pool.create();
      const omitted = new Reader(await bus.subscribe("registry"));
      const empty = new Reader(await bus.subscribe("registry", ""));
      bus.send(event("registry", "create"));
      bus.send(event("registry", "entry.update"));
      bus.send(event("other", "create"));
      expect((await omitted.take(2)).map((e) => e.kind)).toEqual(["create", "entry.update"]);
      expect((await empty.take(2)).map((e) => e.kind)).toEqual(["create", "entry.update"]);
    });

    it("routes by system and kind patterns with *, ** and (a|b)", async () => {
      const bus = await pool.create();
      const star = new Reader(await bus.subscribe("registry", "*"));
      const deep = new Reader(await bus.subscribe("**", "entry.**"));
      const alt = new Reader(await bus.subscribe("(registry|process)", "(create|delete)"));
      const sent = [
        event("registry", "create", "1"),
        event("registry", "entry.update", "2"),
        event("process", "delete", "3"),
        event("process", "entry", "4"),
        event("queue", "entry.a.b", "5"),
      ];
      for (const e of sent) bus.send(e);
      bus.send(event("done", "x"));
      await bus.flush();
      expect((await star.take(1)).map((e) => e.path)).toEqual(["1"]);
      expect((await deep.take(3)).map((e) => e.path)).toEqual(["2", "4", "5"]);
      expect((await alt.take(2)).map((e) => e.path)).toEqual(["1", "3"]);
      for (const reader of [star, deep, alt]) expect(reader.subscription.stats().buffered).toBe(0);
    });

    it("applies a path glob after the system and kind match", async () => {
      const bus = await pool.create();
      const reader = new Reader(await bus.subscribe("fs", "write", { path: "users/*/avatar.{png,jpg}" }));
      for (const path of [
        "users/a/avatar.png",
        "users/a/b/avatar.png",
        "users/b/avatar.gif",
        "users/c/avatar.jpg",
      ]) {
        bus.send(event("fs", "write", path));
      }
      bus.send(event("fs", "write", "users/z/avatar.png"));
      expect((await reader.take(3)).map((e) => e.path)).toEqual([
        "users/a/avatar.png",
        "users/c/avatar.jpg",
        "users/z/avatar.png",
      ]);
    });

    it("numbers subscriptions sub.1, sub.2, ... on a fresh bus", async () => {
      const bus = await pool.create();
      const a = await bus.subscribe("a");
      const b = await bus.subscribe("b");
      expect([a.id, b.id]).toEqual(["sub.1", "sub.2"]);
    });

    it("keeps one global order: every subscriber sees common events in the same relative order", async () => {
      const bus = await pool.create();
      const all = new Reader(await bus.subscribe("**"));
      const odd = new Reader(await bus.subscribe("odd"));
      const total = 2000;
      for (let i = 0; i < total; i++) bus.send(event(i % 2 ? "odd" : "even", "n", String(i)));
      const seenAll = (await all.take(total)).map((e) => Number(e.path));
      const seenOdd = (await odd.take(total / 2)).map((e) => Number(e.path));
      expect(seenAll).toEqual(Array.from({ length: total }, (_, i) => i));
      expect(seenOdd).toEqual(seenAll.filter((n) => n % 2 === 1));
    });

    it("resolves flush after everything sent before it was dispatched", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("f", "", { bufferSize: 100 });
      for (let i = 0; i < 50; i++) bus.send(event("f", "x", String(i)));
      await bus.flush();
      expect(sub.stats().delivered).toBe(50);
      expect(sub.stats().buffered).toBe(50);
    });

    it("counts sent and delivered events in stats()", async () => {
      const bus = await pool.create();
      const a = new Reader(await bus.subscribe("s"));
      const b = new Reader(await bus.subscribe("**"));
      for (let i = 0; i < 10; i++) bus.send(event("s", "k"));
      await a.take(10);
      await b.take(10);
      const stats = bus.stats();
      expect(stats.sent).toBe(10);
      expect(stats.delivered).toBe(20);
      expect(stats.subscriptions).toBe(2);
      expect(a.subscription.stats()).toMatchObject({ delivered: 10, received: 10, dropped: 0, buffered: 0 });
    });
  });

  describe("unsubscribe and close", () => {
    it("unsubscribe resolves true once applied, false for an unknown id, and ends the iterator", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("u");
      const reader = new Reader(sub);
      bus.send(event("u", "before"));
      expect(await bus.unsubscribe(sub.id)).toBe(true);
      bus.send(event("u", "after"));
      expect(await bus.unsubscribe(sub.id)).toBe(false);
      expect(await bus.unsubscribe("sub.999")).toBe(false);
      expect((await reader.rest()).map((e) => e.kind)).toEqual(["before"]);
      expect(bus.stats().subscriptions).toBe(0);
    });

    it("close() is idempotent and ends iteration after the buffered events", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("c");
      bus.send(event("c", "1"));
      bus.send(event("c", "2"));
      await bus.flush();
      await Promise.all([sub.close(), sub.close()]);
      await sub.close();
      expect(sub.closed).toBe(true);
      expect((await new Reader(sub).rest()).map((e) => e.kind)).toEqual(["1", "2"]);
    });

    it("breaking out of for-await closes the subscription", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("b");
      for (let i = 0; i < 5; i++) bus.send(event("b", String(i)));
      let seen = 0;
      for await (const _ of sub) {
        if (++seen === 2) break;
      }
      await bus.flush();
      expect(sub.closed).toBe(true);
      expect(bus.stats().subscriptions).toBe(0);
    });

    it("refuses a second iteration of the same subscription", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("twice");
      sub[Symbol.asyncIterator]();
      expect(() => sub[Symbol.asyncIterator]()).toThrow(TypeError);
    });

    it("an aborted subscription signal removes the subscription", async () => {
      const bus = await pool.create();
      const controller = new AbortController();
      const sub = await bus.subscribe("sig", "", { signal: controller.signal });
      const reader = new Reader(sub);
      bus.send(event("sig", "1"));
      await reader.take(1);
      controller.abort();
      expect(await reader.rest()).toEqual([]);
      await bus.flush();
      expect(bus.stats().subscriptions).toBe(0);
    });

    it.runIf(suite.abortPendingSubscribe)(
      "a subscribe whose signal aborts while it is pending rejects ABORT_ERR and leaves no subscription",
      async () => {
        const bus = await pool.create();
        const live = new Reader(await bus.subscribe("p"));
        for (let round = 0; round < 20; round++) {
          const controller = new AbortController();
          const pending = bus.subscribe("p", "", { signal: controller.signal });
          // Abort at a different moment each round: at once, or after some turns of the event loop.
          for (let i = 0; i < round % 4; i++) await Promise.resolve();
          controller.abort(new Error("gave up"));
          const outcome = await pending.then(
            (sub) => sub,
            (error: { code?: string }) => String(error.code),
          );
          if (typeof outcome === "string") expect(outcome).toBe("ABORT_ERR");
          else expect(outcome.closed, "a subscribe that resolved before the abort closes").toBe(true);
          bus.send(event("p", "k", String(round)));
          await bus.flush();
          expect(bus.stats().subscriptions, `round ${round}`).toBe(1);
        }
        expect((await live.take(20)).length).toBe(20);
      },
    );

    it("an already-aborted subscription signal rejects with ABORT_ERR", async () => {
      const bus = await pool.create();
      expect(await rejectionCode(bus.subscribe("x", "", { signal: AbortSignal.abort() }))).toBe("ABORT_ERR");
      expect(bus.stats().subscriptions).toBe(0);
    });
  });

  describe("bad input", () => {
    it("throws INVALID_EVENT naming the field, and enqueues nothing", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("**");
      const bad: Array<[unknown, string]> = [
        [null, "event"],
        ["registry.create", "event"],
        [{ kind: "k", path: "" }, "system"],
        [{ system: "", kind: "k", path: "" }, "system"],
        [{ system: "s", kind: 3, path: "" }, "kind"],
        [{ system: "s", kind: "", path: "" }, "kind"],
        [{ system: "s", kind: "k" }, "path"],
        [{ system: "s", kind: "k", path: 7 }, "path"],
      ];
      for (const [value, field] of bad) {
        let caught: unknown;
        try {
          bus.send(value as never);
        } catch (error) {
          caught = error;
        }
        expect(caught, JSON.stringify(value)).toMatchObject({ code: "INVALID_EVENT", field });
        expect((caught as Error).message).toContain(field);
      }
      await bus.flush();
      expect(bus.stats().sent).toBe(0);
      expect(sub.stats().delivered).toBe(0);
    });

    it("rejects bad patterns with INVALID_PATTERN before anything is queued", async () => {
      const bus = await pool.create();
      for (const pattern of ["(a|b", "a.(b|c", "a.b|c)", "a.(|b)"]) {
        expect(await rejectionCode(bus.subscribe(pattern))).toBe("INVALID_PATTERN");
        expect(await rejectionCode(bus.subscribe("ok", pattern))).toBe("INVALID_PATTERN");
      }
      expect(bus.stats().subscriptions).toBe(0);
    });

    it("rejects bad subscribe options with INVALID_OPTIONS", async () => {
      const bus = await pool.create();
      const bad = [
        { bufferSize: 0 },
        { bufferSize: 1.5 },
        { overflow: "sometimes" },
        { signal: "no" },
        { path: "" },
      ];
      for (const options of bad) {
        expect(await rejectionCode(bus.subscribe("x", "", options as never)), JSON.stringify(options)).toBe(
          "INVALID_OPTIONS",
        );
      }
    });

    it("rejects the subscription over maxSubscribers with SUBSCRIBER_CAP", async () => {
      const bus = await pool.create({ maxSubscribers: 3 });
      const subs = [await bus.subscribe("a"), await bus.subscribe("b"), await bus.subscribe("c")];
      expect(await rejectionCode(bus.subscribe("d"))).toBe("SUBSCRIBER_CAP");
      await subs[0]!.close();
      const again = await bus.subscribe("d");
      expect(again.id).toMatch(/^sub\.\d+$/);
      expect(bus.stats().subscriptions).toBe(3);
    });
  });

  describe("send signals", () => {
    it("refuses a send whose signal is already aborted, and counts it", async () => {
      const bus = await pool.create();
      const sub = await bus.subscribe("s");
      expect(bus.send(event("s", "k"), { signal: AbortSignal.abort() })).toBe(false);
      await bus.flush();
      expect(sub.stats().delivered).toBe(0);
      expect(bus.stats().refused).toBe(1);
    });

    it("skips the remaining subscribers when the send's signal aborts mid-delivery", async () => {
      const bus = await pool.create();
      const first = new Reader(await bus.subscribe("s", "", { bufferSize: 1 }));
      const second = new Reader(await bus.subscribe("s", "", { bufferSize: 8 }));
      bus.send(event("s", "fill"));
      await bus.flush();
      const controller = new AbortController();
      bus.send(event("s", "signalled"), { signal: controller.signal });
      bus.send(event("s", "after"));
      // `first` is full under "block": the signalled send waits on it, before reaching `second`.
      expect(await settlesWithin(bus.flush(), 100)).toBe(false);
      controller.abort();
      expect((await first.take(1)).map((e) => e.kind)).toEqual(["fill"]);
      expect((await second.take(2)).map((e) => e.kind)).toEqual(["fill", "after"]);
      expect((await first.take(1)).map((e) => e.kind)).toEqual(["after"]);
      expect(bus.stats().aborted).toBe(2);
    });

    it("counts aborted deliveries in stats().aborted, not in dropped; each subscription counts them in its own dropped", async () => {
      const bus = await pool.create();
      const first = new Reader(await bus.subscribe("s", "", { bufferSize: 1 }));
      const second = new Reader(await bus.subscribe("**", "", { bufferSize: 1, overflow: "drop-newest" }));
      bus.send(event("s", "fill"));
      await bus.flush();
      const controller = new AbortController();
      bus.send(event("s", "signalled"), { signal: controller.signal });
      expect(await settlesWithin(bus.flush(), 100)).toBe(false);
      controller.abort();
      expect((await first.take(1)).map((e) => e.kind)).toEqual(["fill"]);
      await bus.flush();
      // Two overflow drops (only `second` matches "t"), to tell the two counters apart.
      bus.send(event("t", "over"));
      bus.send(event("t", "flow"));
      await bus.flush();
      expect(first.subscription.stats().dropped).toBe(1);
      expect(second.subscription.stats().dropped).toBe(3);
      expect(bus.stats()).toMatchObject({ aborted: 2, dropped: 2 });
      await second.subscription.close();
      expect(bus.stats()).toMatchObject({ aborted: 2, dropped: 2 });
    });
  });
}
