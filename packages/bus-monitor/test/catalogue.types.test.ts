import { Bus, type BusEvent, type Untyped } from "@threadbus/core";
import { describe, expectTypeOf, it } from "vitest";
import { type Jsonified, type Monitor, serveMonitor, type TailEvent } from "../src/index.js";
import { events } from "./fixtures/catalogue.js";

/**
 * Type tests: checked by `pnpm typecheck` (tsc over src and test). At run time the bodies only
 * build functions that are never called: no monitor is served.
 */
type Catalogue = typeof events;

describe("the monitor on a bus typed by a catalogue", () => {
  it("serves a catalogued bus as it serves an untyped one", () => {
    const typed = () => serveMonitor(new Bus({ events }));
    const untyped = () => serveMonitor(new Bus());
    expectTypeOf(typed).returns.resolves.toEqualTypeOf<Monitor>();
    expectTypeOf(untyped).returns.resolves.toEqualTypeOf<Monitor>();
    // @ts-expect-error not a bus
    const notABus = () => serveMonitor({ inspect: () => null });
    expectTypeOf(notABus).toBeFunction();
  });

  it("types a tail's events as the union its patterns match, after JSON", () => {
    expectTypeOf<TailEvent<Catalogue, "process">>().toEqualTypeOf<{
      seq: number;
      t: number;
      system: "process";
      kind: "start";
      path: string;
      data?: { pid: number } | string;
      dataHidden?: true;
    }>();
    type Entries = TailEvent<Catalogue, "registry", "entry.*">;
    expectTypeOf<Entries["kind"]>().toEqualTypeOf<"entry.update" | "entry.delete">();
    // An event without data never has data in the tail.
    expectTypeOf<Extract<Entries, { kind: "entry.delete" }>["data"]>().toEqualTypeOf<undefined>();
    // bigint and Date arrive as strings.
    expectTypeOf<
      Exclude<TailEvent<Catalogue, "registry", "create">["data"], string | undefined>
    >().toEqualTypeOf<{
      name: string;
      size?: string;
      at: string;
    }>();
    expectTypeOf<TailEvent<Catalogue, "**">["system"]>().toEqualTypeOf<"registry" | "process">();
    expectTypeOf<TailEvent<Catalogue, "nothing">>().toEqualTypeOf<never>();
    // A pattern typed string matches every catalogued event.
    expectTypeOf<TailEvent<Catalogue, string>["kind"]>().toEqualTypeOf<
      "create" | "entry.update" | "entry.delete" | "start"
    >();
  });

  it("leaves a tail of an untyped bus with unknown data", () => {
    expectTypeOf<TailEvent<Untyped, "x">["system"]>().toEqualTypeOf<string>();
    expectTypeOf<TailEvent<Untyped, "x">["data"]>().toEqualTypeOf<Jsonified<unknown> | string | undefined>();
    expectTypeOf<BusEvent>().not.toEqualTypeOf<TailEvent<Untyped>>();
  });
});
