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
    const good = { v: 1, origin: "remote", seq: 1, system: "registry", kind: "create", path: "ok" };
    const badPayloads: [string, Uint8Array | string][] = [
      ["bad.registry.create", new Uint8Array([0xc1, 0xff, 0x00])], // 0xc1 is never valid MessagePack
      ["bad.registry.create", ""],
      ["bad.registry.create", "{ not msgpack"],
      ["bad.registry.create", packr.pack({ ...good, v: 2 })],
      ["bad.registry.create", packr.pack({ ...good, system: "" })],
      ["bad.registry.create", packr.pack({ ...good, seq: -1 })],
      ["bad.registry.create", packr.pack({ ...good, path: 42 })],
      ["bad.registry.create", packr.pack([1, 2, 3])],
      ["bad.other.create", packr.pack(good)], // the envelope names another subject
    ];
    for (const [subject, payload] of badPayloads) raw.publish(subject, payload);
    raw.publish("bad.registry.create", packr.pack(good));
    await raw.flush();
    await waitForCount(sink.events, 1);
    expect(sink.events[0]).toEqual({ system: "registry", kind: "create", path: "ok" });
    await vi.waitFor(() => expect(bridge.stats().badMessages).toBe(badPayloads.length), WAIT);
    expect(bridge.stats().imported).toBe(1);
    expect(logger.lines.filter((line) => line.includes("skipped a bad message"))).toHaveLength(
      badPayloads.length,
    );
    expect(logger.lines[0]).toMatch(/on 'bad\.registry\.create': not MessagePack/);
    expect(logger.lines.some((line) => line.includes("v:"))).toBe(true);
    bus.send({ system: "local", kind: "still", path: "alive" });
    await waitForCount(sink.events, 2);
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
