import type { BusEvent } from "@threadbus/core";
import { Packr } from "msgpackr";
import { describe, expect, it, vi } from "vitest";
import { encodeMessage } from "../src/index.js";
import { collect, newBus, startBridge, useNatsServer, WAIT, waitForCount } from "./fixtures/helpers.js";
import { NATS_SERVER } from "./fixtures/nats_server.js";

const packr = new Packr({ useRecords: false });
const tick = (path: string): BusEvent => ({ system: "load", kind: "tick", path });

describe.skipIf(NATS_SERVER === null)("sequence numbers that cannot be turned against a stream", () => {
  const nats = useNatsServer({ raw: true });
  const { bridge } = nats;

  it("takes a bridge restarted under the same origin as a new stream, not as duplicates", async () => {
    const b = newBus();
    const importer = await bridge({ bus: b, servers: nats.server.url, prefix: "e1", import: ["load"] });
    const sink = await collect(b, "load");
    for (const run of [1, 2]) {
      const a = newBus();
      const exporter = await startBridge({
        bus: a,
        servers: nats.server.url,
        prefix: "e1",
        export: ["load"],
        origin: "fixed",
      });
      for (let i = 0; i < 500; i++) a.send(tick(`${run}/${i}`));
      await a.flush();
      await exporter.stop();
      await a.stop();
    }
    await waitForCount(sink.events, 1000);
    expect(sink.events.map((e) => e.path).slice(498, 502)).toEqual(["1/498", "1/499", "2/0", "2/1"]);
    expect(importer.stats()).toMatchObject({ imported: 1000, duplicates: 0, lost: 0 });
  });

  it("lets a forged version-1 message with a huge seq neither silence the origin nor inflate lost", async () => {
    const a = newBus();
    const b = newBus();
    await bridge({ bus: a, servers: nats.server.url, prefix: "e2", export: ["load"], origin: "A" });
    const importer = await bridge({ bus: b, servers: nats.server.url, prefix: "e2", import: ["load"] });
    const sink = await collect(b, "load");
    for (let i = 0; i < 10; i++) a.send(tick(`before/${i}`));
    await waitForCount(sink.events, 10);
    const forged = { v: 1, origin: "A", seq: 1e15, system: "load", kind: "tick", path: "forged" };
    nats.raw.publish("e2.load.tick", packr.pack(forged));
    await nats.raw.flush();
    await waitForCount(sink.events, 11);
    for (let i = 0; i < 10; i++) a.send(tick(`after/${i}`));
    await waitForCount(sink.events, 21);
    expect(sink.events.filter((e) => e.path.startsWith("after/"))).toHaveLength(10);
    expect(importer.stats().lost).toBe(0);
    expect(importer.stats().duplicates).toBe(0);
  });

  it("lets a forged version-2 message in the exporter's own epoch cost one resync, not the stream", async () => {
    const a = newBus();
    const b = newBus();
    const exporter = await bridge({
      bus: a,
      servers: nats.server.url,
      prefix: "e3",
      export: ["load"],
      origin: "A",
    });
    const importer = await bridge({ bus: b, servers: nats.server.url, prefix: "e3", import: ["load"] });
    const sink = await collect(b, "load");
    for (let i = 0; i < 10; i++) a.send(tick(`before/${i}`));
    await waitForCount(sink.events, 10);
    const header = { origin: "A", epoch: exporter.epoch, system: "load", kind: "tick" };
    nats.raw.publish("e3.load.tick", encodeMessage({ ...header, last: 1e15 }, ["forged", undefined]));
    nats.raw.publish("e3.load.tick", encodeMessage({ ...header, last: 2e15 })); // a forged heartbeat
    await nats.raw.flush();
    await waitForCount(sink.events, 11);
    for (let i = 0; i < 10; i++) a.send(tick(`after/${i}`));
    await waitForCount(sink.events, 21);
    expect(sink.events.filter((e) => e.path.startsWith("after/"))).toHaveLength(10);
    // The forgery, the forged heartbeat, and the real stream coming back: one resync each.
    expect(importer.stats()).toMatchObject({ lost: 0, duplicates: 0, resyncs: 3 });
  });

  it("bounds a forged jump inside the window by the window, and the real events still arrive", async () => {
    const a = newBus();
    const b = newBus();
    const exporter = await bridge({
      bus: a,
      servers: nats.server.url,
      prefix: "e4",
      export: ["load"],
      origin: "A",
    });
    const importer = await bridge({
      bus: b,
      servers: nats.server.url,
      prefix: "e4",
      import: ["load"],
      sequenceWindow: 100,
    });
    const sink = await collect(b, "load");
    for (let i = 0; i < 10; i++) a.send(tick(`before/${i}`));
    await waitForCount(sink.events, 10);
    const header = { origin: "A", epoch: exporter.epoch, system: "load", kind: "tick" };
    nats.raw.publish("e4.load.tick", encodeMessage({ ...header, last: 60 }, ["forged", undefined]));
    await nats.raw.flush();
    await waitForCount(sink.events, 11);
    expect(importer.stats().lost).toBe(49); // 11..59: at most the window
    for (let i = 0; i < 100; i++) a.send(tick(`after/${i}`));
    // 11..110 are real; 60 was taken by the forgery, so that one real event is skipped.
    await waitForCount(sink.events, 110);
    await vi.waitFor(
      () => expect(importer.stats()).toMatchObject({ lost: 0, duplicates: 1, resyncs: 0 }),
      WAIT,
    );
    expect(sink.events.filter((e) => e.path.startsWith("after/"))).toHaveLength(99);
  });
});
