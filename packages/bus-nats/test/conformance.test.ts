import { readFileSync } from "node:fs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Bus, compilePattern } from "@threadbus/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { NatsBridge } from "../src/index.js";
import { encodeName, translatePattern } from "../src/subject.js";
import { collect, startBridge, WAIT } from "./fixtures/helpers.js";
import { NATS_SERVER, NatsServer } from "./fixtures/nats_server.js";

interface Case {
  pattern: string;
  value: string;
  match: boolean;
}

const { cases } = JSON.parse(
  readFileSync(new URL("../../bus-core/test/conformance/wildcard.json", import.meta.url), "utf8"),
) as { cases: Case[] };

describe.skipIf(NATS_SERVER === null)("wildcard conformance through a real nats-server", () => {
  let server: NatsServer;
  let publisher: NatsConnection;
  let subscriber: NatsConnection;

  beforeAll(async () => {
    server = await NatsServer.start();
    publisher = await connect({ servers: server.url });
    subscriber = await connect({ servers: server.url });
  });

  afterAll(async () => {
    await publisher?.close();
    await subscriber?.close();
    await server?.stop();
  });

  it("delivers each value published as a subject exactly when the pattern matches it", async () => {
    expect(cases.length).toBeGreaterThan(30);
    const delivered = cases.map(() => false);
    const filters = cases.map((c, i) => ({
      ...translatePattern(c.pattern, `case${i}`),
      local: compilePattern(c.pattern),
    }));
    cases.forEach((_, i) => {
      for (const subject of filters[i]!.subjects) {
        subscriber.subscribe(subject, {
          callback: () => {
            delivered[i] = true;
          },
        });
      }
    });
    await subscriber.flush();
    cases.forEach((c, i) => {
      const subject = c.value === "" ? `case${i}` : `case${i}.${encodeName(c.value)}`;
      publisher.publish(subject, "x");
    });
    await publisher.flush();
    // A marker published last on the same connection arrives after everything before it.
    const marker = new Promise<void>((resolve) =>
      subscriber.subscribe("marker", { callback: () => resolve(), max: 1 }),
    );
    await subscriber.flush();
    publisher.publish("marker", "x");
    await marker;
    cases.forEach((c, i) => {
      const filter = filters[i]!;
      const label = `'${c.pattern}' vs '${c.value}'`;
      if (filter.exact) expect(delivered[i], `${label}: NATS alone`).toBe(c.match);
      // A widened subject may deliver more, never less; the core matcher then decides.
      if (c.match) expect(delivered[i], `${label}: NATS delivers a match`).toBe(true);
      expect(delivered[i] && filter.local.match(c.value), `${label}: NATS + local filter`).toBe(c.match);
    });
  });

  for (const position of ["system", "kind"] as const) {
    it(`imports through two bridges exactly the events whose ${position} matches, for every case`, async () => {
      const usable = cases.filter((c) => c.pattern !== "" && c.value !== "");
      const exporting = new Bus();
      const bridges: NatsBridge[] = [];
      try {
        bridges.push(
          await startBridge({ bus: exporting, servers: server.url, prefix: position, export: ["**"] }),
        );
        // Each case has its own importing bus and bridge; its index in the other name keeps cases apart.
        const sinks = await Promise.all(
          usable.map(async (c, i) => {
            const filter =
              position === "system"
                ? { system: c.pattern, kind: `k${i}` }
                : { system: `s${i}`, kind: c.pattern };
            const bus = new Bus();
            const sink = await collect(bus, "**");
            bridges.push(
              await startBridge({ bus, servers: server.url, prefix: position, import: [filter, "marker"] }),
            );
            return { bus, sink };
          }),
        );
        usable.forEach((c, i) => {
          if (position === "system") exporting.send({ system: c.value, kind: `k${i}`, path: "p" });
          else exporting.send({ system: `s${i}`, kind: c.value, path: "p" });
        });
        // NATS keeps one publisher's order towards each subscriber: the marker comes last.
        exporting.send({ system: "marker", kind: "end", path: "" });
        for (const [i, c] of usable.entries()) {
          const { sink } = sinks[i]!;
          await vi.waitFor(() => expect(sink.events.some((e) => e.system === "marker")).toBe(true), WAIT);
          const got = sink.events.filter((e) => e.system !== "marker");
          const label = `${position} '${c.pattern}' vs '${c.value}'`;
          expect(got.length, label).toBe(c.match ? 1 : 0);
          if (c.match) expect(position === "system" ? got[0]!.system : got[0]!.kind, label).toBe(c.value);
        }
      } finally {
        await Promise.all(bridges.map((b) => b.stop()));
      }
    });
  }
});
