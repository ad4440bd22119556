import { describe, expect, expectTypeOf, it } from "vitest";
import {
  Awaiter,
  Bus,
  type BusEvent,
  InvalidEventError,
  type PatternMatches,
  Subscriber,
  type Subscription,
} from "../src/index.js";
import { events } from "./fixtures/catalogue.js";

/**
 * Type tests: checked by `pnpm typecheck` (tsc over src and test), which CI runs. At run time each
 * body only builds values; the assertions are the compiler's.
 */
type Events<T> = T extends Subscription<unknown, infer E> ? E : never;
type Matching<S extends string, K extends string> = Parameters<
  Parameters<typeof Subscriber.start<unknown, typeof events, S, K>>[3]
>[0];

describe("catalogue types", () => {
  it("the type-level matcher follows the runtime rules", () => {
    expectTypeOf<PatternMatches<"registry", "registry">>().toEqualTypeOf<true>();
    expectTypeOf<PatternMatches<"registry", "registryx">>().toEqualTypeOf<false>();
    expectTypeOf<PatternMatches<"entry.*", "entry.update">>().toEqualTypeOf<true>();
    expectTypeOf<PatternMatches<"entry.*", "entry.a.b">>().toEqualTypeOf<false>();
    expectTypeOf<PatternMatches<"entry.*", "entry">>().toEqualTypeOf<false>();
    expectTypeOf<PatternMatches<"**", "a.b.c">>().toEqualTypeOf<true>();
    expectTypeOf<PatternMatches<"a.**", "a">>().toEqualTypeOf<true>();
    expectTypeOf<PatternMatches<"a.**.b", "a.x.y.b">>().toEqualTypeOf<true>();
    expectTypeOf<PatternMatches<"a.**.b", "a.x.y.c">>().toEqualTypeOf<false>();
    expectTypeOf<PatternMatches<"(create|update)", "update">>().toEqualTypeOf<true>();
    expectTypeOf<PatternMatches<"(create|update)", "delete">>().toEqualTypeOf<false>();
    expectTypeOf<PatternMatches<"foo*", "foox">>().toEqualTypeOf<false>();
    expectTypeOf<PatternMatches<"", "a">>().toEqualTypeOf<false>();
    expectTypeOf<PatternMatches<string, "a">>().toEqualTypeOf<true>();
  });

  it("send accepts only catalogued (system, kind) pairs with matching data", () => {
    const bus = new Bus({ events });
    bus.send({ system: "registry", kind: "create", path: "e/1", data: { name: "a" } });
    bus.send({ system: "registry", kind: "entry.delete", path: "e/1" });
    // default() makes args optional on input
    bus.send({ system: "process", kind: "start", path: "", data: { pid: 1 } });
    expect(() =>
      // @ts-expect-error: an uncatalogued kind
      bus.send({ system: "registry", kind: "nope", path: "" }),
    ).toThrowError(InvalidEventError);
    expect(() =>
      // @ts-expect-error: an uncatalogued system
      bus.send({ system: "other", kind: "create", path: "" }),
    ).toThrowError(InvalidEventError);
    expect(() =>
      // @ts-expect-error: data of the wrong type
      bus.send({ system: "registry", kind: "create", path: "", data: { name: 1 } }),
    ).toThrowError(InvalidEventError);
    expect(() =>
      // @ts-expect-error: data missing where the schema requires it
      bus.send({ system: "registry", kind: "create", path: "" }),
    ).toThrowError(InvalidEventError);
    expect(() =>
      // @ts-expect-error: data where the kind carries none
      bus.send({ system: "registry", kind: "entry.delete", path: "e/1", data: 1 }),
    ).toThrowError(InvalidEventError);
    void bus.stop();
  });

  it("a literal pattern yields the union of the events it matches", () => {
    type Create = {
      system: "registry";
      kind: "create";
      path: string;
      data: { name: string; size?: number | undefined };
    };
    expectTypeOf<Matching<"registry", "create">>().toEqualTypeOf<Create>();
    expectTypeOf<Matching<"registry", "entry.*">["kind"]>().toEqualTypeOf<"entry.update" | "entry.delete">();
    expectTypeOf<Matching<"**", "(create|update)">["kind"]>().toEqualTypeOf<"create" | "update">();
    expectTypeOf<Matching<"**", "(create|update)">["system"]>().toEqualTypeOf<"registry" | "process">();
    expectTypeOf<Matching<"registry", string>["kind"]>().toEqualTypeOf<
      "create" | "entry.update" | "entry.delete"
    >();
    expectTypeOf<Matching<"order.**", "line.*">["kind"]>().toEqualTypeOf<"line.create">();
    expectTypeOf<Matching<"registry", "missing">>().toEqualTypeOf<never>();
    // output types: the default is filled in
    expectTypeOf<Matching<"process", "start">["data"]>().toEqualTypeOf<{ pid: number; args: string[] }>();
  });

  it("a non-literal pattern yields every event", () => {
    const pattern: string = "registry";
    expectTypeOf<Matching<typeof pattern, string>["system"]>().toEqualTypeOf<
      "registry" | "process" | "order"
    >();
  });

  it("subscribe narrows by discriminating on kind", async () => {
    const bus = new Bus({ events });
    const sub = await bus.subscribe("registry", "entry.*");
    expectTypeOf(sub).toEqualTypeOf<Subscription<unknown, Matching<"registry", "entry.*">>>();
    bus.send({ system: "registry", kind: "entry.update", path: "", data: { id: 1, items: [{ qty: 2 }] } });
    for await (const event of sub) {
      if (event.kind === "entry.update") expectTypeOf(event.data.items[0]!.qty).toEqualTypeOf<number>();
      // @ts-expect-error: entry.delete carries no data
      if (event.kind === "entry.delete") event.data.x;
      break;
    }
    await bus.stop();
  });

  it("helpers carry the types", async () => {
    const bus = new Bus({ events });
    const subscriber = await Subscriber.start(bus, "process", "update", (event) => {
      expectTypeOf(event.data).toEqualTypeOf<string>();
    });
    const awaiter = new Awaiter(bus, "registry", "create");
    const waiter = await awaiter.prepare("e/1");
    bus.send({ system: "registry", kind: "create", path: "e/1", data: { name: "x" } });
    const result = await waiter.wait();
    expectTypeOf(result.event.data.name).toEqualTypeOf<string>();
    await awaiter.close();
    await subscriber.close();
    await bus.stop();
  });

  it("an untyped bus keeps unknown data and the per-call generic", async () => {
    const bus = new Bus();
    const sub = await bus.subscribe<{ n: number }>("a", "b");
    expectTypeOf(sub).toEqualTypeOf<Subscription<{ n: number }>>();
    expectTypeOf<Events<Awaited<ReturnType<Bus["subscribe"]>>>>().toEqualTypeOf<BusEvent<unknown>>();
    bus.send({ system: "any", kind: "thing", path: "", data: new Map() });
    await bus.stop();
  });
});
