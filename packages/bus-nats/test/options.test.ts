import { Bus, ThreadbusError } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { NatsBridge, type NatsBridgeOptions, NatsConnectError } from "../src/index.js";
import { freePort } from "./fixtures/nats_server.js";

const bus = new Bus();
const base = { bus, servers: "nats://127.0.0.1:1", export: ["registry"] } satisfies NatsBridgeOptions;

describe("NatsBridge.start options", () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ["a missing bus", { bus: undefined }, "options.bus"],
    ["a bus without send()", { bus: { subscribe() {} } }, "options.bus"],
    ["no servers", { servers: [] }, "options.servers"],
    ["an empty server URL", { servers: "" }, "options.servers"],
    ["a prefix with a wildcard", { prefix: "a.*" }, "options.prefix"],
    ["a prefix with an empty token", { prefix: "a..b" }, "options.prefix"],
    ["a prefix with a space", { prefix: "my prefix" }, "options.prefix"],
    ["an empty export pattern", { export: [""] }, "options.export.0"],
    ["an export pattern of the wrong type", { export: [42] }, "options.export.0"],
    ["an unbalanced import pattern", { import: [{ system: "a.(b" }] }, "options.import.0"],
    ["an unbalanced kind pattern", { import: [{ system: "a", kind: "(x" }] }, "options.import.0"],
    ["neither export nor import", { export: [], import: [] }, "options.export"],
    ["a negative outage buffer", { outageBufferSize: -1 }, "options.outageBufferSize"],
    ["a fractional export buffer", { exportBufferSize: 1.5 }, "options.exportBufferSize"],
    ["an unknown overflow policy", { exportOverflow: "wait" }, "options.exportOverflow"],
    ["a zero flushEvery", { flushEvery: 0 }, "options.flushEvery"],
    ["a zero maxTrackedSubjects", { maxTrackedSubjects: 0 }, "options.maxTrackedSubjects"],
    ["a heartbeat under 10 ms", { heartbeatMs: 5 }, "options.heartbeatMs"],
    ["a fractional maxBatchBytes", { maxBatchBytes: 100.5 }, "options.maxBatchBytes"],
    ["a zero sequenceWindow", { sequenceWindow: 0 }, "options.sequenceWindow"],
    ["an origin with spaces", { origin: "a b" }, "options.origin"],
    ["a logger without warn()", { logger: { error() {} } }, "options.logger"],
    ["events that are not a catalogue", { events: { registry: {} } }, "options.events"],
  ];
  for (const [what, override, option] of bad) {
    it(`rejects ${what} with INVALID_OPTIONS naming ${option}`, async () => {
      const options = { ...base, ...override } as unknown as NatsBridgeOptions;
      await expect(NatsBridge.start(options)).rejects.toMatchObject({ code: "INVALID_OPTIONS", option });
    });
  }

  it("rejects a misspelled option naming the closest key", async () => {
    const options = { ...base, heartbeatMS: 500 } as unknown as NatsBridgeOptions;
    await expect(NatsBridge.start(options)).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
      option: "options.heartbeatMS",
      message: "options.heartbeatMS: unknown option (did you mean 'heartbeatMs'?)",
    });
  });

  it("rejects with NATS_CONNECT_FAILED, the client's error as cause, when no server listens", async () => {
    const port = await freePort();
    const started = NatsBridge.start({ ...base, servers: `nats://127.0.0.1:${port}` });
    await expect(started).rejects.toMatchObject({
      code: "NATS_CONNECT_FAILED",
      servers: [`nats://127.0.0.1:${port}`],
    });
    await expect(started).rejects.toHaveProperty("cause");
    const error = await started.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(NatsConnectError);
    expect(error).toBeInstanceOf(ThreadbusError);
    expect((error as Error).name).toBe("NatsConnectError");
  });
});
