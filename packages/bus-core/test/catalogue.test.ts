import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { Bus, type BusEvent, defineEvents, type EventBus, InvalidEventError } from "../src/index.js";
import { Reader } from "./contract/support.js";
import { events } from "./fixtures/catalogue.js";

const quiet = { warn() {}, error() {} };
const buses: Bus<typeof events>[] = [];
function makeBus(options: { validate?: "shape" | "full" | "off"; uncatalogued?: "allow" | "refuse" } = {}) {
  const bus = new Bus({ events, logger: quiet, ...options });
  buses.push(bus);
  return bus;
}
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop({ timeoutMs: 100 })));
});

function refusal(send: () => unknown): InvalidEventError {
  try {
    send();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return error as InvalidEventError;
  }
  throw new Error("expected the send to throw");
}

/** Sends through the untyped interface: these tests feed the bus what the types would refuse. */
function untyped(bus: Bus<typeof events>): EventBus {
  return bus as unknown as EventBus;
}

describe("defineEvents", () => {
  it("refuses a spec that is not system -> kind -> schema, naming the place", () => {
    expect(() => defineEvents({ a: { b: 1 as unknown as z.ZodType } })).toThrowError(/events\.a\.b/);
    expect(() => defineEvents({ a: { b: { data: z.string(), paht: z.string() } as never } })).toThrowError(
      /events\.a\.b\.paht/,
    );
  });

  it("orders entries by system then kind, whatever the order they were written in", () => {
    const one = defineEvents({ b: { y: z.string(), x: z.number() }, a: { z: z.boolean() } });
    expect(one.entries.map((e) => `${e.system} ${e.kind} ${e.id}`)).toEqual(["a z 0", "b x 1", "b y 2"]);
  });

  it("names the first (system, kind) in which two catalogues differ", () => {
    const one = defineEvents({ a: { k: z.string() }, b: { k: z.object({ n: z.number() }) } });
    const same = defineEvents({ b: { k: z.object({ n: z.number() }) }, a: { k: z.string() } });
    const other = defineEvents({ a: { k: z.string() }, b: { k: z.object({ n: z.string() }) } });
    const fewer = defineEvents({ a: { k: z.string() } });
    expect(one.difference(same.fingerprint())).toBeNull();
    expect(one.difference(other.fingerprint())).toBe("b k");
    expect(one.difference(fewer.fingerprint())).toBe("b k");
    expect(fewer.difference(one.fingerprint())).toBe("b k");
  });
});

describe("publish-time validation on the in-thread Bus", () => {
  it('"shape" (default) refuses a wrong type, naming the path in data, and counts nothing as sent', () => {
    const bus = untyped(makeBus());
    const error = refusal(() =>
      bus.send({
        system: "registry",
        kind: "entry.update",
        path: "",
        data: { id: 1, items: [{ qty: 1 }, { qty: 2 }, { qty: "3" }] },
      }),
    );
    expect(error.code).toBe("INVALID_EVENT");
    expect(error.field).toBe("data.items.2.qty");
    expect(
      refusal(() =>
        bus.send({ system: "registry", kind: "entry.update", path: "", data: { id: 1.5, items: [] } }),
      ).field,
    ).toBe("data.id");
    expect(refusal(() => bus.send({ system: "registry", kind: "create", path: "" })).field).toBe("data");
    expect(bus.stats().sent).toBe(0);
  });

  it('"shape" leaves refinements to "full"', async () => {
    const shape = makeBus();
    expect(shape.send({ system: "order", kind: "line.create", path: "", data: { total: -1 } })).toBe(true);
    const full = makeBus({ validate: "full" });
    const error = refusal(() =>
      full.send({ system: "order", kind: "line.create", path: "", data: { total: -1 } }),
    );
    expect(error.field).toBe("data.total");
    expect(error.message).toMatch(/must be >= 0/);
    expect(full.stats().sent).toBe(0);
  });

  it('"full" delivers zod\'s output: defaults filled in, unknown keys stripped', async () => {
    const bus = makeBus({ validate: "full" });
    const reader = new Reader(await bus.subscribe("process", "start"));
    untyped(bus).send({ system: "process", kind: "start", path: "p", data: { pid: 7, extra: true } });
    const [event] = await reader.take(1);
    expect(event!.data).toEqual({ pid: 7, args: [] });
  });

  it('"off" checks nothing beyond the event fields', () => {
    const bus = untyped(makeBus({ validate: "off" }));
    expect(bus.send({ system: "registry", kind: "create", path: "", data: 42 })).toBe(true);
  });

  it("checks the path against the kind's path schema", () => {
    const bus = untyped(makeBus());
    expect(refusal(() => bus.send({ system: "registry", kind: "entry.delete", path: "x/1" })).field).toBe(
      "path",
    );
    expect(
      refusal(() => bus.send({ system: "registry", kind: "entry.delete", path: "e/1", data: 1 })).field,
    ).toBe("data");
    expect(bus.send({ system: "registry", kind: "entry.delete", path: "e/1" })).toBe(true);
  });

  it('an uncatalogued (system, kind) is refused by default (field "kind"), or allowed', async () => {
    const refusing = untyped(makeBus());
    const error = refusal(() => refusing.send({ system: "registry", kind: "nope", path: "" }));
    expect(error.field).toBe("kind");
    expect(refusing.stats().sent).toBe(0);
    const allowing = makeBus({ uncatalogued: "allow" });
    const reader = new Reader(await untyped(allowing).subscribe("other"));
    expect(untyped(allowing).send({ system: "other", kind: "k", path: "", data: new Map([[1, 2]]) })).toBe(
      true,
    );
    const [event] = (await reader.take(1)) as BusEvent[];
    expect(event!.data).toEqual(new Map([[1, 2]]));
  });

  it("refuses bad catalogue options with INVALID_OPTIONS naming them", () => {
    expect(() => new Bus({ events, validate: "strict" as "full" })).toThrowError(/options\.validate/);
    expect(() => new Bus({ events: {} as typeof events })).toThrowError(/options\.events/);
    expect(() => new Bus({ events, uncatalogue: "allow" } as never)).toThrowError(
      /did you mean 'uncatalogued'/,
    );
  });
});
