import { MessageChannel } from "node:worker_threads";
import type { BusEvent } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { attach } from "../dist/index.js";
import { codeOf, useBuses } from "./support.js";

const event = (system: string, kind: string, path = "", data?: unknown): BusEvent =>
  data === undefined ? { system, kind, path } : { system, kind, path, data };

describe("WorkerBus input that used to slip through", () => {
  const start = useBuses();

  it("refuses unknown option keys with INVALID_OPTIONS naming the key", async () => {
    const bus = await start();
    expect(await codeOf(() => start({ ringbytes: 1 << 16 } as never))).toBe("INVALID_OPTIONS");
    expect(await codeOf(bus.subscribe("s", "", { overflw: "drop-oldest" } as never))).toBe("INVALID_OPTIONS");
    expect(await codeOf(bus.stop({ timeout: 5 } as never))).toBe("INVALID_OPTIONS");
    expect(bus.closed).toBe(false);
  });

  it("sendAsync() and ready() refuse bad input with coded errors", async () => {
    const bus = await start();
    expect(await codeOf(bus.sendAsync({ system: "", kind: "k", path: "" }))).toBe("INVALID_EVENT");
    expect(await codeOf(bus.sendAsync(event("s", "k"), { signal: "no" } as never))).toBe("INVALID_OPTIONS");
    expect(await codeOf(bus.ready({} as never))).toBe("INVALID_OPTIONS");
    expect(await bus.sendAsync(event("s", "k"))).toBe(true);
  });

  it("unsubscribe takes canonical ids only: sub.01 and sub.(n + 2^32) are no ids of sub.n", async () => {
    const bus = await start();
    const sub = await bus.subscribe("s");
    expect(sub.id).toBe("sub.1");
    expect(await bus.unsubscribe("sub.01")).toBe(false);
    expect(await bus.unsubscribe(`sub.${1 + 2 ** 32}`)).toBe(false);
    expect(await bus.unsubscribe("sub.1 ")).toBe(false);
    expect(bus.stats().subscriptions).toBe(1);
    expect(await bus.unsubscribe("sub.1")).toBe(true);
  });

  it("attach() refuses garbage, foreign, forged and reused handles with INVALID_OPTIONS, at once", async () => {
    const bus = await start();
    const fresh = bus.handle();
    const channel = new MessageChannel();
    const cases: unknown[] = [
      null,
      42,
      {},
      { ...fresh, buffer: new ArrayBuffer(64) },
      { ...fresh, buffer: new SharedArrayBuffer(1 << 16) },
      { ...fresh, client: 999 },
      { ...fresh, client: 2 },
      { ...fresh, nonce: fresh.nonce + 1, port: channel.port1 },
      { ...fresh, port: {} },
      { ...fresh, extra: true },
    ];
    for (const handle of cases)
      expect(await codeOf(() => attach(handle as never)), JSON.stringify(handle)).toBe("INVALID_OPTIONS");
    const attached = attach(fresh);
    expect(await codeOf(() => attach(fresh))).toBe("INVALID_OPTIONS");
    await attached.stop();
    channel.port1.close();
  });

  it("names the field that makes an event too large: system and path are not 'data'", async () => {
    const bus = await start({ ringBytes: 4096 });
    expect(await codeOf(() => bus.send(event("s".repeat(2000), "k")))).toBe("INVALID_EVENT");
    for (const [big, field] of [
      [event("s".repeat(2000), "k"), "system"],
      [event("s", "k".repeat(2000)), "kind"],
      [event("s", "k", "p".repeat(2000)), "path"],
      [event("s", "k", "", "d".repeat(2000)), "data"],
    ] as const) {
      let caught: unknown;
      try {
        bus.send(big);
      } catch (error) {
        caught = error;
      }
      expect(caught, field).toMatchObject({ code: "INVALID_EVENT", field });
    }
  });

  it("a getter that throws inside data surfaces as INVALID_EVENT with the getter's error as cause", async () => {
    const bus = await start();
    const boom = new Error("boom");
    const data = {
      get broken(): number {
        throw boom;
      },
    };
    let caught: unknown;
    try {
      bus.send(event("s", "k", "", data));
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "INVALID_EVENT", field: "data", cause: boom });
    expect(bus.stats().sent).toBe(0);
  });

  it("data arrives as structured clone would deliver it: -0, holes, boxed primitives, __proto__ keys", async () => {
    const bus = await start();
    const sub = await bus.subscribe("f");
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    // biome-ignore lint/suspicious/noSparseArray: a hole is what this test carries
    const holes = [1, , 3];
    const values: unknown[] = [
      -0,
      { n: -0 },
      holes,
      new String("boxed"),
      new Number(7),
      new Boolean(false),
      proto,
    ];
    for (const [i, data] of values.entries()) bus.send(event("f", "k", String(i), data));
    const received: unknown[] = [];
    for await (const e of sub) {
      received.push(e.data);
      if (received.length === values.length) break;
    }
    expect(Object.is(received[0], -0)).toBe(true);
    expect(Object.is((received[1] as { n: number }).n, -0)).toBe(true);
    expect(1 in (received[2] as unknown[])).toBe(false);
    expect(received[2]).toEqual(holes);
    expect(received[3]).toBeInstanceOf(String);
    expect(String(received[3])).toBe("boxed");
    expect(received[4]).toBeInstanceOf(Number);
    expect(received[5]).toBeInstanceOf(Boolean);
    const got = received[6] as Record<string, unknown>;
    expect(Object.hasOwn(got, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // What structured clone itself would deliver, for each.
    for (const [i, value] of values.entries()) expect(received[i], String(i)).toEqual(structuredClone(value));
  });

  it("refuses a SharedArrayBuffer, or a view of one, in data (a bus copies; sharing is not what an event means)", async () => {
    const bus = await start();
    const shared = new SharedArrayBuffer(8);
    for (const data of [shared, new Uint8Array(shared), { view: new Int32Array(shared) }])
      expect(await codeOf(() => bus.send(event("f", "k", "", data)))).toBe("INVALID_EVENT");
    expect(bus.stats().sent).toBe(0);
  });
});

describe("signalled sends", () => {
  const start = useBuses();

  it("a tight loop of sends under one signal neither runs out of abort slots nor piles listeners on it", async () => {
    const bus = await start({ ringBytes: 1 << 22 });
    const sub = await bus.subscribe("s", "", { bufferSize: 100_000, overflow: "drop-newest" });
    const controller = new AbortController();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++)
      if (bus.send(event("s", "k", String(i)), { signal: controller.signal })) accepted++;
    await bus.flush();
    process.off("warning", onWarning);
    expect(accepted).toBe(20_000);
    expect(sub.stats().delivered).toBe(20_000);
    expect(warnings).not.toContain("MaxListenersExceededWarning");
  });

  it("a signal aborted while its send is blocked skips the rest: counted in aborted and per subscription, not in the bus's dropped", async () => {
    const bus = await start();
    const slow = await bus.subscribe("a", "", { bufferSize: 1 });
    const after = await bus.subscribe("a");
    const controller = new AbortController();
    bus.send(event("a", "k", "0"));
    bus.send(event("a", "k", "1"), { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await bus.flush();
    // Two deliveries skipped: the blocked one (slow) and the one after it.
    expect(bus.stats()).toMatchObject({ aborted: 2, dropped: 0 });
    expect(after.stats()).toMatchObject({ delivered: 1, dropped: 1 });
    expect(slow.stats()).toMatchObject({ delivered: 1, dropped: 1 });
  });
});
