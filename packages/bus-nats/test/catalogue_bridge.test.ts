import { Bus, type EventBus } from "@threadbus/core";
import { describe, expect, it, vi } from "vitest";
import { NatsBridge } from "../src/index.js";
import { events } from "./fixtures/catalogue.js";
import { collect, newBus, recordingLogger, useNatsServer, WAIT, waitForCount } from "./fixtures/helpers.js";
import { NATS_SERVER } from "./fixtures/nats_server.js";

describe.skipIf(NATS_SERVER === null)("a bridge importing onto a catalogued bus", () => {
  const nats = useNatsServer();

  it("sends the imports that fit the catalogue and counts the rest in stats().invalid", async () => {
    const remote = newBus();
    await nats.bridge({ bus: remote, servers: nats.server.url, prefix: "cat", export: ["**"] });
    const local = new Bus({ events, logger: recordingLogger() });
    const logger = recordingLogger();
    const importer = await NatsBridge.start({
      bus: local,
      servers: nats.server.url,
      prefix: "cat",
      import: ["process", "order"],
      events,
      logger,
    });
    nats.onCleanup(() => importer.stop());
    const sink = await collect(local as unknown as EventBus, "**");
    remote.send({ system: "process", kind: "start", path: "p/1", data: { pid: 1 } });
    remote.send({ system: "process", kind: "start", path: "p/2", data: { pid: "two" } });
    remote.send({ system: "order", kind: "line.create", path: "o/1", data: { total: -5 } });
    remote.send({ system: "order", kind: "line.create", path: "o/2", data: { total: 5 } });
    await waitForCount(sink.events, 2);
    await vi.waitFor(() => expect(importer.stats().invalid).toBe(2), WAIT);
    expect(sink.events.map((e) => [e.path, e.data])).toEqual([
      ["p/1", { pid: 1, args: [] }],
      ["o/2", { total: 5 }],
    ]);
    // Nothing lost silently: every event of the stream is imported, refused, filtered or invalid.
    expect(importer.stats()).toMatchObject({ imported: 2, invalid: 2, refused: 0, filtered: 0, lost: 0 });
    expect(logger.lines.join("\n")).toMatch(/data\.pid/);
    await local.stop();
  });
});
