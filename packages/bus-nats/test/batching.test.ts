import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BusEvent } from "@threadbus/core";
import { describe, expect, it, vi } from "vitest";
import { decodeMessage, encodeMessage, type WireMessage } from "../src/index.js";
import { collect, newBus, recordingLogger, useNatsServer, WAIT, waitForCount } from "./fixtures/helpers.js";
import { NATS_SERVER } from "./fixtures/nats_server.js";

/** The server's limit on one message, small enough to reach with a few events. */
const MAX_PAYLOAD = 8192;

describe.skipIf(NATS_SERVER === null)("batches on the wire", () => {
  const config = join(tmpdir(), `threadbus-nats-${process.pid}-batching.conf`);
  writeFileSync(config, `max_payload: ${MAX_PAYLOAD}\n`);
  const nats = useNatsServer({ args: ["-c", config], raw: true });
  const { bridge } = nats;

  /** Every message the server carries under `prefix`, decoded. */
  async function wiretap(prefix: string): Promise<WireMessage[]> {
    const messages: WireMessage[] = [];
    nats.raw.subscribe(`${prefix}.>`, {
      callback: (_err, msg) => {
        const decoded = decodeMessage(msg.data);
        if (decoded.ok) messages.push(decoded.message);
      },
    });
    await nats.raw.flush();
    return messages;
  }

  /**
   * Waits until the importer has taken every message the server had for it: a marker published
   * after comes behind them on the importer's connection.
   */
  async function settled(prefix: string, sink: { events: BusEvent[] }): Promise<void> {
    const before = sink.events.length;
    nats.raw.publish(
      `${prefix}.s.marker`,
      encodeMessage({ origin: "marker", epoch: 1, system: "s", kind: "marker", last: 0 }, ["m", undefined]),
    );
    await nats.raw.flush();
    await waitForCount(sink.events, before + 1);
  }

  /** Numbers on the wire run 1..n without a hole, n being the last heartbeat's. */
  function numberedWithoutGaps(tap: WireMessage[], kind: string, n: number): void {
    const carrying = tap.filter((m) => m.kind === kind && m.count > 0);
    let next = 1;
    for (const m of carrying) {
      expect(m.last - m.count + 1).toBe(next);
      next = m.last + 1;
    }
    expect(next - 1).toBe(n);
    expect(tap.filter((m) => m.kind === kind && m.count === 0).at(-1)?.last).toBe(n);
  }

  const event = (kind: string, i: number, data?: unknown): BusEvent =>
    data === undefined
      ? { system: "s", kind, path: String(i) }
      : { system: "s", kind, path: String(i), data };

  it("sends a run of one kind as few messages, numbered in order, and keeps the order across kinds", async () => {
    const a = newBus();
    const b = newBus();
    const exporter = await bridge({
      bus: a,
      servers: nats.server.url,
      prefix: "b1",
      export: ["s"],
      heartbeatMs: 60_000,
    });
    const importer = await bridge({ bus: b, servers: nats.server.url, prefix: "b1", import: ["s"] });
    const tap = await wiretap("b1");
    const sink = await collect(b, "s");
    const sent: BusEvent[] = [];
    for (let i = 0; i < 1000; i++) sent.push(event("run", i, { i }));
    for (let i = 0; i < 20; i++) sent.push(event(i % 2 ? "odd" : "even", 1000 + i));
    for (const e of sent) a.send(e);
    await waitForCount(sink.events, sent.length);
    expect(sink.events).toEqual(sent);
    await exporter.flush();
    await nats.raw.flush();
    const carrying = tap.filter((m) => m.count > 0);
    // 1000 events of one kind take a handful of messages; the alternating 20 take one each.
    expect(carrying.length).toBeLessThan(60);
    expect(carrying.length).toBeGreaterThanOrEqual(21);
    expect(exporter.stats().messages).toBe(carrying.length);
    const run = carrying.filter((m) => m.kind === "run");
    expect(run.map((m) => m.last)).toEqual([...run.map((m) => m.last)].sort((x, y) => x - y));
    expect(run.at(-1)?.last).toBe(1000);
    expect(new Set(carrying.map((m) => m.epoch))).toEqual(new Set([exporter.epoch]));
    expect(importer.stats()).toMatchObject({ imported: sent.length, lost: 0, duplicates: 0 });
  });

  it("splits a batch holding data it cannot encode and drops only that event, with no gap", async () => {
    const a = newBus();
    const b = newBus();
    const logger = recordingLogger();
    const exporter = await bridge({ bus: a, servers: nats.server.url, prefix: "b2", export: ["s"], logger });
    const importer = await bridge({ bus: b, servers: nats.server.url, prefix: "b2", import: ["s"] });
    const tap = await wiretap("b2");
    const sink = await collect(b, "s");
    for (let i = 0; i < 10; i++) a.send(event("k", i, i === 6 ? { bad: Symbol("no") } : { i }));
    await exporter.flush();
    await waitForCount(sink.events, 9);
    expect(sink.events.map((e) => e.path)).toEqual(["0", "1", "2", "3", "4", "5", "7", "8", "9"]);
    expect(exporter.stats()).toMatchObject({ exported: 9, dropped: 1 });
    expect(logger.lines.some((line) => line.includes("'6': its data cannot be encoded"))).toBe(true);
    await exporter.stop(); // its final heartbeat says 9
    await settled("b2", sink);
    numberedWithoutGaps(tap, "k", 9);
    expect(importer.stats()).toMatchObject({ imported: 10, lost: 0 });
  });

  it("keeps every message under the server's max_payload, and drops an event that alone is above it", async () => {
    const a = newBus();
    const b = newBus();
    const logger = recordingLogger();
    const exporter = await bridge({ bus: a, servers: nats.server.url, prefix: "b3", export: ["s"], logger });
    const importer = await bridge({ bus: b, servers: nats.server.url, prefix: "b3", import: ["s"] });
    const tap = await wiretap("b3");
    const sink = await collect(b, "s");
    const body = "x".repeat(3000);
    for (let i = 0; i < 10; i++) a.send(event("k", i, i === 4 ? "y".repeat(MAX_PAYLOAD * 2) : body));
    await exporter.flush();
    await waitForCount(sink.events, 9);
    expect(sink.events.map((e) => e.path)).toEqual(["0", "1", "2", "3", "5", "6", "7", "8", "9"]);
    expect(exporter.stats()).toMatchObject({ exported: 9, dropped: 1 });
    expect(logger.lines.some((line) => line.includes("above max_payload 8192"))).toBe(true);
    await exporter.stop();
    await settled("b3", sink);
    numberedWithoutGaps(tap, "k", 9);
    expect(tap.filter((m) => m.count > 1).length).toBeGreaterThan(0);
    expect(importer.stats()).toMatchObject({ imported: 10, lost: 0, badMessages: 0 });
  });

  it("beats each subject's last number while idle, and never before a subject has exported", async () => {
    const a = newBus();
    const exporter = await bridge({
      bus: a,
      servers: nats.server.url,
      prefix: "b4",
      export: ["s"],
      heartbeatMs: 50,
    });
    const tap = await wiretap("b4");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(tap).toHaveLength(0);
    for (let i = 0; i < 5; i++) a.send(event("one", i));
    for (let i = 0; i < 3; i++) a.send(event("two", i));
    await exporter.flush();
    await vi.waitFor(() => {
      const beats = tap.filter((m) => m.count === 0);
      expect(beats.filter((m) => m.kind === "one").at(-1)?.last).toBe(5);
      expect(beats.filter((m) => m.kind === "two").at(-1)?.last).toBe(3);
    }, WAIT);
    expect(exporter.stats().heartbeats).toBeGreaterThanOrEqual(2);
  });

  it("batches subjects past maxTrackedSubjects too, unnumbered (last 0), and importers take them as they come", async () => {
    const a = newBus();
    const b = newBus();
    const exporter = await bridge({
      bus: a,
      servers: nats.server.url,
      prefix: "b5",
      export: ["s"],
      maxTrackedSubjects: 1,
    });
    const importer = await bridge({ bus: b, servers: nats.server.url, prefix: "b5", import: ["s"] });
    const tap = await wiretap("b5");
    const sink = await collect(b, "s");
    a.send(event("numbered", 0));
    for (let i = 1; i <= 300; i++) a.send(event("unnumbered", i));
    await waitForCount(sink.events, 301);
    await exporter.flush();
    await nats.raw.flush();
    const unnumbered = tap.filter((m) => m.kind === "unnumbered");
    expect(unnumbered.every((m) => m.last === 0)).toBe(true);
    expect(unnumbered.length).toBeLessThan(30);
    expect(tap.find((m) => m.kind === "numbered")?.last).toBe(1);
    expect(importer.stats()).toMatchObject({ imported: 301, lost: 0, duplicates: 0 });
  });
});
