import type { BusEvent } from "@threadbus/core";
import { describe, expect, it, vi } from "vitest";
import { CuttableLink } from "./fixtures/cuttable_link.js";
import { collect, newBus, startBridge, useNatsServer, WAIT, waitForCount } from "./fixtures/helpers.js";
import { NATS_SERVER } from "./fixtures/nats_server.js";

const tick = (i: number): BusEvent => ({ system: "load", kind: "tick", path: String(i) });

describe.skipIf(NATS_SERVER === null)("events lost at the end of a stream", () => {
  const nats = useNatsServer();

  /**
   * An exporter straight on the server, an importer behind a link the test cuts: 100 events
   * arrive, the link is cut, 50 more are exported (the server has no importer to give them to,
   * so they are lost), the link comes back. No later event will reveal the gap.
   */
  async function loseTheTail(prefix: string, heartbeatMs: number) {
    const link = await CuttableLink.start(nats.server.port);
    nats.onCleanup(() => link.close());
    const a = newBus();
    const b = newBus();
    const exporter = await startBridge({
      bus: a,
      servers: nats.server.url,
      prefix,
      export: ["load"],
      heartbeatMs,
    });
    nats.onCleanup(() => exporter.stop());
    const importer = await startBridge({ bus: b, servers: link.url, prefix, import: ["load"] });
    nats.onCleanup(() => importer.stop());
    const sink = await collect(b, "load");
    for (let i = 0; i < 100; i++) a.send(tick(i));
    await waitForCount(sink.events, 100);
    link.cut();
    await vi.waitFor(() => expect(importer.stats().connected).toBe(false), WAIT);
    for (let i = 100; i < 150; i++) a.send(tick(i));
    await exporter.flush();
    link.restore();
    await vi.waitFor(() => expect(importer.stats().reconnects).toBe(1), WAIT);
    // A round trip: the server has taken the importer's subscriptions again.
    await importer.flush();
    return { exporter, importer, sink };
  }

  it("are counted in lost within a heartbeat once the importer is back", async () => {
    const { exporter, importer, sink } = await loseTheTail("tl1", 200);
    await vi.waitFor(() => expect(importer.stats().lost).toBe(50), WAIT);
    expect(sink.events).toHaveLength(100);
    expect(sink.events.length + exporter.stats().dropped + importer.stats().lost).toBe(150);
  });

  it("are counted when the exporter stops, by its final heartbeat", async () => {
    // A heartbeat period far beyond the test: only stop() can tell the importer about the tail.
    const { exporter, importer, sink } = await loseTheTail("tl2", 600_000);
    expect(importer.stats().lost).toBe(0);
    await exporter.stop();
    await vi.waitFor(() => expect(importer.stats().lost).toBe(50), WAIT);
    expect(sink.events.length + exporter.stats().dropped + importer.stats().lost).toBe(150);
  });
});
