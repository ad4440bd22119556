import { Bus, type BusEvent } from "@threadbus/core";
import { describe, expect, it, vi } from "vitest";
import { collect, newBus, startBridge, useNatsServer, WAIT, waitForCount } from "./fixtures/helpers.js";
import { NATS_SERVER } from "./fixtures/nats_server.js";

describe.skipIf(NATS_SERVER === null)("NatsBridge between two buses", () => {
  const nats = useNatsServer();
  const { bridge } = nats;

  it("exports matching local events and imports them on the other bus with path and data intact", async () => {
    const a = newBus();
    const b = newBus();
    await bridge({
      bus: a,
      servers: nats.server.url,
      prefix: "t1",
      export: [{ system: "registry", kind: "entry.*" }],
    });
    const importer = await bridge({ bus: b, servers: nats.server.url, prefix: "t1", import: ["registry"] });
    const sink = await collect(b, "registry");
    const data = { id: 7, tags: ["x", "y"], bytes: new Uint8Array([1, 2, 3]), when: new Date(0), none: null };
    a.send({ system: "registry", kind: "entry.create", path: "users/7", data });
    a.send({ system: "registry", kind: "other", path: "not exported" });
    a.send({ system: "registry", kind: "entry.delete", path: "users/7" });
    await waitForCount(sink.events, 2);
    expect(sink.events.map((e) => [e.kind, e.path])).toEqual([
      ["entry.create", "users/7"],
      ["entry.delete", "users/7"],
    ]);
    expect(sink.events[0]!.data).toEqual(data);
    expect(sink.events[1]!).not.toHaveProperty("data");
    expect(importer.stats()).toMatchObject({ imported: 2, badMessages: 0, lost: 0, duplicates: 0 });
  });

  it("carries names NATS subjects cannot hold (spaces, '*', '>', empty segments) through the encoding", async () => {
    const a = newBus();
    const b = newBus();
    await bridge({ bus: a, servers: nats.server.url, prefix: "t2", export: ["**"] });
    await bridge({ bus: b, servers: nats.server.url, prefix: "t2", import: ["**"] });
    const sink = await collect(b, "**");
    const names: [string, string][] = [
      ["my system", "a..b"],
      ["*", ">"],
      ["sys", "kind."],
      ["ünïcode", "~tilde"],
    ];
    for (const [system, kind] of names) a.send({ system, kind, path: "p" });
    await waitForCount(sink.events, names.length);
    expect(sink.events.map((e) => [e.system, e.kind])).toEqual(names);
  });

  it("exports an event matching several export patterns once, in local order", async () => {
    const a = newBus();
    const b = newBus();
    const exporter = await bridge({
      bus: a,
      servers: nats.server.url,
      prefix: "t3",
      export: ["registry", "registry.**", { system: "process", kind: "start" }],
    });
    await bridge({ bus: b, servers: nats.server.url, prefix: "t3", import: ["**"] });
    const sink = await collect(b, "**");
    a.send({ system: "registry", kind: "create", path: "1" });
    a.send({ system: "process", kind: "stop", path: "not exported" });
    a.send({ system: "process", kind: "start", path: "2" });
    a.send({ system: "registry.sub", kind: "x", path: "3" });
    await waitForCount(sink.events, 3);
    await exporter.flush();
    expect(sink.events.map((e) => e.path)).toEqual(["1", "2", "3"]);
    expect(exporter.stats().exported).toBe(3);
  });

  it("delivers once what overlapping import subscriptions both receive, counting the duplicate", async () => {
    const a = newBus();
    const b = newBus();
    await bridge({ bus: a, servers: nats.server.url, prefix: "t4", export: ["**"] });
    // "registry.*" + kind "" -> t4.registry.*.>, and "registry.**" -> t4.registry + t4.registry.>
    const importer = await bridge({
      bus: b,
      servers: nats.server.url,
      prefix: "t4",
      import: ["registry.*", "registry.**"],
    });
    const sink = await collect(b, "**");
    a.send({ system: "registry.x", kind: "create", path: "1" });
    a.send({ system: "registry", kind: "marker", path: "2" });
    await waitForCount(sink.events, 2);
    await vi.waitFor(() => expect(importer.stats().duplicates).toBe(1), WAIT);
    expect(sink.events.map((e) => e.path)).toEqual(["1", "2"]);
  });

  it("never sends an event back where it came from when both sides export and import everything", async () => {
    const a = newBus();
    const b = newBus();
    const bridgeA = await bridge({
      bus: a,
      servers: nats.server.url,
      prefix: "t5",
      export: ["**"],
      import: ["**"],
    });
    const bridgeB = await bridge({
      bus: b,
      servers: nats.server.url,
      prefix: "t5",
      export: ["**"],
      import: ["**"],
    });
    const sinkA = await collect(a, "**");
    const sinkB = await collect(b, "**");
    for (let i = 0; i < 100; i++) {
      a.send({ system: "from-a", kind: "tick", path: String(i) });
      b.send({ system: "from-b", kind: "tick", path: String(i) });
    }
    await waitForCount(sinkA.events, 200);
    await waitForCount(sinkB.events, 200);
    await bridgeA.flush();
    await bridgeB.flush();
    // A round trip on both sides after the flushes: anything echoed would have arrived by now.
    await bridgeA.flush();
    await bridgeB.flush();
    expect(sinkA.events).toHaveLength(200);
    expect(sinkB.events).toHaveLength(200);
    for (const [stats, name] of [
      [bridgeA.stats(), "a"],
      [bridgeB.stats(), "b"],
    ] as const) {
      expect(stats, name).toMatchObject({ exported: 100, imported: 100, reexportsSkipped: 100, dropped: 0 });
    }
  });

  it("sees no own event come back even on a connection that echoes, thanks to the origin tag", async () => {
    const a = newBus();
    const bridgeA = await bridge({
      bus: a,
      servers: nats.server.url,
      prefix: "t6",
      export: ["**"],
      import: ["**"],
      origin: "same-origin",
    });
    // A second bridge that claims the same origin stands for an echo of A's own messages.
    const b = new Bus();
    const twin = await bridge({
      bus: b,
      servers: nats.server.url,
      prefix: "t6",
      import: ["**"],
      origin: "same-origin",
    });
    const sinkB = await collect(b, "**");
    a.send({ system: "s", kind: "k", path: "1" });
    await bridgeA.flush();
    await vi.waitFor(() => expect(twin.stats().echoes).toBe(1), WAIT);
    expect(sinkB.events).toHaveLength(0);
    expect(bridgeA.stats().echoes).toBe(0);
  });

  it("counts imports the local bus refuses after it stopped, without throwing", async () => {
    const a = newBus();
    const b = newBus();
    await bridge({ bus: a, servers: nats.server.url, prefix: "t7", export: ["**"] });
    const importer = await bridge({ bus: b, servers: nats.server.url, prefix: "t7", import: ["**"] });
    await b.stop();
    a.send({ system: "s", kind: "k", path: "1" });
    await vi.waitFor(() => expect(importer.stats().refused).toBe(1), WAIT);
    expect(importer.stats().imported).toBe(0);
  });

  it("exports what was buffered on the local bus when stopped, and stop is idempotent", async () => {
    const a = newBus();
    const b = newBus();
    const exporter = await startBridge({ bus: a, servers: nats.server.url, prefix: "t8", export: ["**"] });
    await bridge({ bus: b, servers: nats.server.url, prefix: "t8", import: ["**"] });
    const sink = await collect(b, "**");
    const events: BusEvent[] = Array.from({ length: 500 }, (_, i) => ({
      system: "s",
      kind: "k",
      path: String(i),
    }));
    for (const event of events) a.send(event);
    await a.flush();
    await Promise.all([exporter.stop(), exporter.stop()]);
    expect(exporter.stats().exported).toBe(500);
    await waitForCount(sink.events, 500);
    expect(sink.events.map((e) => e.path)).toEqual(events.map((e) => e.path));
  });
});
