import { Worker } from "node:worker_threads";
import { type BusEvent, defineEvents, type EventBus, Subscriber } from "@threadbus/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { subscribePool, WorkerBus } from "../dist/index.js";
import { events, otherEvents } from "./fixtures/catalogue.mjs";
import { codeOf, nextMessage, useBuses } from "./support.js";

const start = useBuses();
/** The fixture catalogue's tick kind, typed (the .mjs fixture's declaration is untyped). */
const typedEvents = defineEvents({ tick: { n: z.object({ i: z.number(), s: z.string() }) } });

/** A catalogued bus through the untyped interface: these tests send what the types would refuse. */
async function catalogued(options: Parameters<typeof WorkerBus.start>[0] = {}): Promise<EventBus> {
  return (await start({ events, ...options })) as unknown as EventBus;
}

async function take(bus: EventBus, system: string, count: number, send: () => void): Promise<BusEvent[]> {
  const sub = await bus.subscribe(system);
  send();
  const out: BusEvent[] = [];
  for await (const event of sub) {
    out.push(event);
    if (out.length === count) break;
  }
  return out;
}

function threadWith(bus: WorkerBus, data: Record<string, unknown>): Worker {
  const handle = bus.handle();
  return new Worker(new URL("./fixtures/catalogued.mjs", import.meta.url), {
    workerData: { handle, ...data },
    transferList: [handle.port],
  });
}

describe("WorkerBus with a catalogue", () => {
  it("compiled and generic events share one ring and one order", async () => {
    const bus = await catalogued({ uncatalogued: "allow" });
    const sent: BusEvent[] = [];
    for (let i = 0; i < 300; i++) {
      sent.push({
        system: "order",
        kind: "create",
        path: `c${i}`,
        data: { id: i, lines: [{ sku: `s${i}`, qty: i }] },
      });
      sent.push({ system: "order", kind: "loose", path: `l${i}`, data: new Map([[i, [i]]]) });
      sent.push({ system: "order", kind: "uncatalogued", path: `u${i}`, data: { i, at: new Date(i) } });
      sent.push({ system: "order", kind: "note", path: `n${i}`, data: "é".repeat(i % 7) });
    }
    const got = await take(bus, "order", sent.length, () => {
      for (const event of sent) expect(bus.send(event)).toBe(true);
    });
    expect(got.map((e) => ({ ...e }))).toEqual(sent);
  });

  it("decodes compiled data lazily, on first access, and eagerly for a consumer that reads it", async () => {
    const bus = await catalogued();
    const sub = await bus.subscribe("tick");
    const iterator = sub[Symbol.asyncIterator]();
    const accessors: boolean[] = [];
    // Rounds of 100, each read before the next is sent: the reader samples whether data is read.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++)
        bus.send({ system: "tick", kind: "n", path: "", data: { i, s: `#${round}` } });
      for (let i = 0; i < 100; i++) {
        const { value } = await iterator.next();
        accessors.push(typeof Object.getOwnPropertyDescriptor(value, "data")?.get === "function");
        expect(value.data).toEqual({ i, s: `#${round}` });
      }
    }
    expect(accessors[0]).toBe(true);
    expect(accessors[299]).toBe(false);
    await iterator.return?.();
  });

  it('"shape" refuses a wrong type naming the path; nothing is enqueued or counted', async () => {
    const bus = await catalogued();
    const bad = {
      system: "order",
      kind: "create",
      path: "",
      data: {
        id: 1,
        lines: [
          { sku: "a", qty: 1 },
          { sku: "b", qty: 2 },
          { sku: "c", qty: "3" },
        ],
      },
    };
    let field = "";
    try {
      bus.send(bad);
    } catch (error) {
      expect((error as { code: string }).code).toBe("INVALID_EVENT");
      field = (error as { field: string }).field;
    }
    expect(field).toBe("data.lines.2.qty");
    expect(await codeOf(() => bus.send({ system: "order", kind: "nope", path: "" }))).toBe("INVALID_EVENT");
    expect(
      await codeOf(() => bus.send({ system: "tick", kind: "n", path: "", data: { i: Number.NaN, s: "" } })),
    ).toBe("INVALID_EVENT");
    await bus.flush();
    expect(bus.stats().sent).toBe(0);
  });

  it('"off" lets data that does not fit travel by the generic codec; "full" sends zod\'s output', async () => {
    const off = await catalogued({ validate: "off" });
    const [event] = await take(off, "tick", 1, () =>
      off.send({ system: "tick", kind: "n", path: "", data: { i: "not a number", s: 1 } }),
    );
    expect(event!.data).toEqual({ i: "not a number", s: 1 });
    const full = await catalogued({ validate: "full" });
    const [parsed] = await take(full, "tick", 1, () =>
      full.send({ system: "tick", kind: "n", path: "", data: { i: 1, s: "x", extra: true } }),
    );
    expect(parsed!.data).toStrictEqual({ i: 1, s: "x" });
  });

  it("a thread attached with the same catalogue publishes compiled events into the same order", async () => {
    const bus = await start({ events });
    const sub = await bus.subscribe("order", "**");
    const worker = threadWith(bus, { role: "publisher", count: 50 });
    const report = await nextMessage<{ refused: { code: string; field: string } }>(worker);
    expect(report.refused).toEqual({ code: "INVALID_EVENT", field: "data.lines.0.qty" });
    const got: BusEvent[] = [];
    for await (const event of sub) {
      got.push(event);
      if (got.length === 100) break;
    }
    expect(got.map((e) => e.path)).toEqual(Array.from({ length: 100 }, (_, i) => `w:${i >> 1}`));
    expect(got[2]!.data).toEqual({ id: 1, lines: [{ sku: "a", qty: 1 }] });
    expect(got[3]!.data).toEqual(new Map([[1, "generic"]]));
  });

  it("attach refuses another catalogue, or none, with INVALID_OPTIONS naming the first differing (system, kind)", async () => {
    const bus = await start({ events });
    const other = await nextMessage<{ code: string; message: string }>(threadWith(bus, { role: "other" }));
    expect(other.code).toBe("INVALID_OPTIONS");
    expect(other.message).toMatch(/'order create' differs/);
    const none = await nextMessage<{ code: string; message: string }>(threadWith(bus, { role: "none" }));
    expect(none.code).toBe("INVALID_OPTIONS");
    expect(none.message).toMatch(/attach\(handle, \{ events \}\)/);
    const plain = await start();
    const onPlain = await nextMessage<{ code: string; message: string }>(threadWith(plain, { role: "same" }));
    expect(onPlain.code).toBe("INVALID_OPTIONS");
    expect(onPlain.message).toMatch(/started without a catalogue/);
    expect(await nextMessage(threadWith(bus, { role: "same" }))).toEqual({ attached: true });
    expect(otherEvents.difference(events.fingerprint())).toBe("order create");
  });

  it("refuses bad catalogue options with INVALID_OPTIONS naming them", async () => {
    expect(await codeOf(() => WorkerBus.start({ events: {} as typeof events }))).toBe("INVALID_OPTIONS");
    expect(await codeOf(() => WorkerBus.start({ events, validate: "all" as "full" }))).toBe(
      "INVALID_OPTIONS",
    );
  });
});

describe("types of a catalogued WorkerBus", () => {
  it("subscribePool and the core helpers take it as it is (checked by tsc)", () => {
    type Bus = WorkerBus<typeof typedEvents>;
    const accepts = (bus: Bus) => [
      () => subscribePool(bus, "tick", "n", { filename: "unused.mjs" }),
      () =>
        Subscriber.start(bus, "tick", "n", (event) => {
          expectTypeOf(event.data.i).toEqualTypeOf<number>();
        }),
    ];
    expect(accepts).toBeTypeOf("function");
  });
});
