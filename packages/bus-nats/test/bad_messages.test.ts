import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { NatsBridge } from "../src/index.js";
import { collect, newBus, recordingLogger, WAIT, waitForCount } from "./fixtures/helpers.js";
import { NATS_SERVER, NatsServer } from "./fixtures/nats_server.js";

describe.skipIf(NATS_SERVER === null)("bad wire messages", () => {
  let server: NatsServer;
  let raw: NatsConnection;

  beforeAll(async () => {
    server = await NatsServer.start();
    raw = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await raw?.close();
    await server?.stop();
  });

  it("are counted and skipped with a log line, and the bus keeps working", async () => {
    const bus = newBus();
    const logger = recordingLogger();
    const bridge = await NatsBridge.start({
      bus,
      servers: server.url,
      prefix: "bad",
      import: ["**"],
      logger,
    });
    const sink = await collect(bus, "**");
    const packr = new Packr({ useRecords: false });
    const goodV1 = { v: 1, origin: "remote", seq: 1, system: "registry", kind: "create", path: "ok-v1" };
    const goodV2 = {
      v: 2,
      origin: "remote",
      epoch: 7,
      system: "registry",
      kind: "create",
      last: 2,
      events: ["ok-v2-a", { n: 1 }, "ok-v2-b", null],
    };
    const badPayloads: [string, Uint8Array | string][] = [
      ["bad.registry.create", new Uint8Array([0xc1, 0xff, 0x00])], // 0xc1 is never valid MessagePack
      ["bad.registry.create", ""],
      ["bad.registry.create", "{ not msgpack"],
      ["bad.registry.create", packr.pack({ ...goodV1, v: 3 })],
      ["bad.registry.create", packr.pack({ ...goodV1, system: "" })],
      ["bad.registry.create", packr.pack({ ...goodV1, seq: -1 })],
      ["bad.registry.create", packr.pack({ ...goodV1, path: 42 })],
      ["bad.registry.create", packr.pack([1, 2, 3])],
      ["bad.other.create", packr.pack(goodV1)], // the envelope names another subject
      ["bad.registry.create", packr.pack({ ...goodV2, events: ["a"] })], // a path without its data
      ["bad.registry.create", packr.pack({ ...goodV2, events: [1, null, "b", null] })], // a path not a string
      ["bad.registry.create", packr.pack({ ...goodV2, events: "a" })],
      ["bad.registry.create", packr.pack({ ...goodV2, last: 1 })], // 2 events cannot end at 1
      ["bad.registry.create", packr.pack({ ...goodV2, epoch: 0 })],
      ["bad.registry.create", packr.pack({ ...goodV2, epoch: 2 ** 48 })],
      ["bad.registry.create", packr.pack({ ...goodV2, last: 2 ** 60 })],
      ["bad.registry.create", packr.pack({ ...goodV2, origin: undefined })],
      ["bad.other.create", packr.pack(goodV2)],
    ];
    for (const [subject, payload] of badPayloads) raw.publish(subject, payload);
    raw.publish("bad.registry.create", packr.pack(goodV1));
    raw.publish("bad.registry.create", packr.pack(goodV2));
    await raw.flush();
    await waitForCount(sink.events, 3);
    // Version 1 is still read; in version 2, data: null stays null.
    expect(sink.events).toEqual([
      { system: "registry", kind: "create", path: "ok-v1" },
      { system: "registry", kind: "create", path: "ok-v2-a", data: { n: 1 } },
      { system: "registry", kind: "create", path: "ok-v2-b", data: null },
    ]);
    await vi.waitFor(() => expect(bridge.stats().badMessages).toBe(badPayloads.length), WAIT);
    expect(bridge.stats().imported).toBe(3);
    // The first 10 are logged one by one (the flood test below covers the thinning).
    expect(logger.lines.filter((line) => line.includes("skipped a bad message"))).toHaveLength(10);
    expect(logger.lines[0]).toMatch(/on 'bad\.registry\.create': not MessagePack/);
    expect(logger.lines.some((line) => line.includes("v:"))).toBe(true);
    bus.send({ system: "local", kind: "still", path: "alive" });
    await waitForCount(sink.events, 4);
    expect(bus.closed).toBe(false);
    await bridge.stop();
    await bus.stop();
  });

  it("thin out their log lines under a flood but count every one", async () => {
    const bus = newBus();
    const logger = recordingLogger();
    const bridge = await NatsBridge.start({
      bus,
      servers: server.url,
      prefix: "flood",
      import: ["**"],
      logger,
    });
    for (let i = 0; i < 2500; i++) raw.publish("flood.a.b", "garbage");
    await raw.flush();
    await vi.waitFor(() => expect(bridge.stats().badMessages).toBe(2500), WAIT);
    // 10 one by one, then the 1000th and 2000th.
    expect(logger.lines).toHaveLength(12);
    await bridge.stop();
    await bus.stop();
  });
});
