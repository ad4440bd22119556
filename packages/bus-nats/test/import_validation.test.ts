import { Bus, type BusEvent, type CatalogueLike, compilePattern, type EventBus } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { encodeMessage } from "../src/envelope.js";
import { Importer } from "../src/importer.js";
import { subjectFor } from "../src/subject.js";
import { events } from "./fixtures/catalogue.js";
import { recordingLogger } from "./fixtures/helpers.js";

/**
 * The import side's check against the catalogue, driven with wire messages directly (no server):
 * every event either reaches the bus, parsed, or is counted in `invalid` and logged.
 */
function importer<C extends CatalogueLike>(bus: EventBus<C>, catalogue: typeof events | null) {
  const logger = recordingLogger();
  const imp = new Importer({
    // The importer sends what it has checked itself: it holds the bus untyped, as the bridge does.
    bus: bus as unknown as EventBus,
    events: catalogue,
    prefix: "t",
    origin: "local",
    filters: [{ system: compilePattern("**"), kind: null }],
    maxTrackedSubjects: 100,
    sequenceWindow: 1000,
    logger,
    imported: null,
  });
  let last = 0;
  const deliver = (system: string, kind: string, ...pairs: unknown[]) => {
    last += pairs.length / 2;
    const payload = encodeMessage({ origin: "remote", epoch: 1, system, kind, last }, pairs);
    imp.onMessage(subjectFor("t", system, kind), payload);
  };
  return { imp, logger, deliver };
}

/** Every event the bus delivers until it stops. */
async function drain<C extends CatalogueLike>(bus: EventBus<C>): Promise<BusEvent[]> {
  const subscription = await bus.subscribe("**", "", { bufferSize: 1024 });
  return new Promise((resolve) => {
    const out: BusEvent[] = [];
    void (async () => {
      for await (const event of subscription) out.push(event);
      resolve(out);
    })();
  });
}

describe("imports checked against the catalogue", () => {
  it("sends what fits (zod's output, defaults filled in) and counts what does not, with the field", async () => {
    const bus = new Bus({ events, validate: "off" });
    const all = drain(bus);
    await bus.flush();
    const { imp, logger, deliver } = importer(bus, events);
    deliver("process", "start", "p/1", { pid: 1 }, "p/2", { pid: "2" }, "p/3", { pid: 3, args: ["a"] });
    deliver("order", "line.create", "o/1", { total: -1 }, "o/2", { total: 5 });
    deliver("registry", "entry.delete", "x/1", undefined, "e/1", undefined, "e/2", { stray: true });
    deliver("registry", "entry.update", "u/1", { id: 1, items: [{ qty: 1 }, { qty: 1.5 }] });
    await bus.stop();
    const got = await all;
    expect(got.map((e) => [e.system, e.kind, e.path, e.data])).toEqual([
      ["process", "start", "p/1", { pid: 1, args: [] }],
      ["process", "start", "p/3", { pid: 3, args: ["a"] }],
      ["order", "line.create", "o/2", { total: 5 }],
      ["registry", "entry.delete", "e/1", undefined],
    ]);
    expect(imp.counters).toMatchObject({ imported: 4, invalid: 5, refused: 0, badMessages: 0 });
    expect(logger.lines).toHaveLength(5);
    expect(logger.lines[0]).toMatch(/data\.pid/);
    expect(logger.lines[1]).toMatch(/must be >= 0/);
    expect(logger.lines[2]).toMatch(/path/);
    expect(logger.lines[3]).toMatch(/carries no data/);
    expect(logger.lines[4]).toMatch(/data\.items\.1\.qty/);
  });

  it("leaves an uncatalogued (system, kind) to the bus's own policy: refused there, counted invalid", async () => {
    const bus = new Bus({ events });
    const all = drain(bus);
    await bus.flush();
    const { imp, deliver } = importer(bus, events);
    deliver("billing", "paid", "b/1", 1);
    await bus.stop();
    expect(await all).toEqual([]);
    expect(imp.counters).toMatchObject({ imported: 0, invalid: 1, refused: 0 });
  });

  it("without `events`, counts the bus's own refusal at send (INVALID_EVENT) as invalid, not refused", async () => {
    const bus = new Bus({ events });
    const all = drain(bus);
    await bus.flush();
    const { imp, deliver } = importer(bus, null);
    deliver("process", "start", "p/1", { pid: "one" }, "p/2", { pid: 2, args: [] });
    await bus.stop();
    expect((await all).map((e) => e.path)).toEqual(["p/2"]);
    expect(imp.counters).toMatchObject({ imported: 1, invalid: 1, refused: 0 });
  });

  it("thins the log out past the first ten, while counting every one", async () => {
    const bus = new Bus({ events, validate: "off" });
    const { imp, logger, deliver } = importer(bus, events);
    const pairs: unknown[] = [];
    for (let i = 0; i < 2000; i++) pairs.push(`o/${i}`, { total: -1 });
    deliver("order", "line.create", ...pairs);
    expect(imp.counters.invalid).toBe(2000);
    expect(logger.lines).toHaveLength(12);
    await bus.stop();
  });
});
