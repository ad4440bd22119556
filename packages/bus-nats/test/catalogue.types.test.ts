import { Bus, type BusEvent } from "@threadbus/core";
import { describe, expectTypeOf, it } from "vitest";
import { type BridgedEvent, type CataloguedPattern, NatsBridge } from "../src/index.js";
import { events, otherEvents } from "./fixtures/catalogue.js";

/**
 * Type tests: checked by `pnpm typecheck` (tsc over src and test). At run time the bodies only
 * build functions that are never called: no bridge starts, no server is needed.
 */
type Catalogue = typeof events;
const servers = "nats://127.0.0.1:1";

describe("a bridge on a bus typed by a catalogue", () => {
  it("accepts export and import patterns that match catalogued events", () => {
    const bus = new Bus({ events });
    const start = () =>
      NatsBridge.start({
        bus,
        servers,
        events,
        export: ["registry", { system: "process", kind: "start" }, { system: "registry", kind: "entry.*" }],
        import: ["**", { system: "(order|process)" }, "order"],
      });
    expectTypeOf(start).returns.resolves.toEqualTypeOf<NatsBridge>();
  });

  it("refuses literal patterns that match no catalogued event", () => {
    const bus = new Bus({ events });
    // @ts-expect-error no system "billing" in the catalogue
    const unknownSystem = () => NatsBridge.start({ bus, servers, export: ["billing"] });
    const unknownKind = () =>
      // @ts-expect-error registry has no kind "entry" (entry.* needs one more segment)
      NatsBridge.start({ bus, servers, import: [{ system: "registry", kind: "entry" }] });
    const mixed = () =>
      // @ts-expect-error one good pattern does not excuse a bad one
      NatsBridge.start({ bus, servers, export: ["registry", { system: "process", kind: "stop" }] });
    expectTypeOf(unknownSystem).toBeFunction();
    expectTypeOf(unknownKind).toBeFunction();
    expectTypeOf(mixed).toBeFunction();
  });

  it("lets a pattern typed string through (it may match anything)", () => {
    const bus = new Bus({ events });
    const fromConfig: string = "billing";
    const start = () => NatsBridge.start({ bus, servers, export: [fromConfig] });
    expectTypeOf(start).toBeFunction();
  });

  it("takes only the bus's own catalogue as `events`", () => {
    const bus = new Bus({ events });
    // @ts-expect-error another catalogue than the bus's
    const other = () => NatsBridge.start({ bus, servers, import: ["registry"], events: otherEvents });
    // @ts-expect-error not a catalogue
    const notOne = () => NatsBridge.start({ bus, servers, import: ["registry"], events: { registry: {} } });
    expectTypeOf(other).toBeFunction();
    expectTypeOf(notOne).toBeFunction();
  });

  it("names the events a list of patterns lets through", () => {
    expectTypeOf<BridgedEvent<Catalogue, ["process"]>>().toEqualTypeOf<{
      system: "process";
      kind: "start";
      path: string;
      data: { pid: number; args: string[] };
    }>();
    expectTypeOf<BridgedEvent<Catalogue, [{ system: "registry"; kind: "entry.delete" }]>>().toEqualTypeOf<{
      system: "registry";
      kind: "entry.delete";
      path: string;
      data?: undefined;
    }>();
    expectTypeOf<
      BridgedEvent<Catalogue, ["order", { system: "process"; kind: "start" }]>["system"]
    >().toEqualTypeOf<"order" | "process">();
    expectTypeOf<
      CataloguedPattern<Catalogue, "nothing">
    >().toEqualTypeOf<"this pattern matches no event of the bus's catalogue">();
  });
});

describe("a bridge on an untyped bus", () => {
  it("accepts any pattern and any catalogue, as before", () => {
    const bus = new Bus();
    const start = () =>
      NatsBridge.start({ bus, servers, export: ["billing", { system: "x", kind: "y" }], events });
    expectTypeOf(start).toBeFunction();
    expectTypeOf<BridgedEvent<import("@threadbus/core").Untyped, ["billing"]>>().toEqualTypeOf<
      BusEvent<unknown>
    >();
  });
});
