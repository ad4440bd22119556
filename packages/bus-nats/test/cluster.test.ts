import type { BusEvent } from "@threadbus/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { NatsBridge } from "../src/index.js";
import { newBus, startBridge } from "./fixtures/helpers.js";
import { NatsCluster } from "./fixtures/nats_cluster.js";
import { NATS_SERVER } from "./fixtures/nats_server.js";

const LONG = { timeout: 60_000, interval: 20 };

/** Counts what arrives in order of `data.seq`, and how often that order broke. */
class Receiver {
  received = 0;
  lastSeq = 0;
  outOfOrder = 0;

  take(event: BusEvent): void {
    const seq = (event.data as { seq: number }).seq;
    if (seq <= this.lastSeq) this.outOfOrder++;
    this.lastSeq = seq;
    this.received++;
  }
}

describe.skipIf(NATS_SERVER === null)("a 3-node nats-server cluster on loopback", () => {
  let cluster: NatsCluster;
  const bridges: NatsBridge[] = [];

  beforeEach(async () => {
    cluster = await NatsCluster.start(3);
  });
  afterEach(async () => {
    for (const bridge of bridges.splice(0)) await bridge.stop();
    await cluster?.stop();
  });

  async function bridge(options: Parameters<typeof startBridge>[0]) {
    const started = await startBridge({
      ...options,
      // In the order given: the bridge starts on the first node and fails over to the others.
      connection: { noRandomize: true },
      heartbeatMs: 200,
    });
    bridges.push(started);
    return started;
  }

  it("carries events both ways between bridges on different nodes, and when one node is killed mid-stream received + dropped + lost == sent", {
    timeout: 180_000,
  }, async () => {
    const busA = newBus();
    const busB = newBus();
    // A starts on node 1 (the one killed), B on node 2.
    const a = await bridge({
      bus: busA,
      servers: cluster.urls(0),
      prefix: "c",
      export: ["load"],
      import: ["ack"],
    });
    const b = await bridge({
      bus: busB,
      servers: cluster.urls(1),
      prefix: "c",
      export: ["ack"],
      import: ["load"],
    });
    expect(a.stats().connected && b.stats().connected).toBe(true);
    // Each node must know the other bridge's subscriptions before the first event crosses.
    await cluster.waitForInterest(0, 1);
    await cluster.waitForInterest(1, 0);

    const loads = new Receiver();
    const acks = new Receiver();
    let acksSent = 0;
    const loadSub = await busB.subscribe("load", "tick", { bufferSize: 1 << 16 });
    const ackSub = await busA.subscribe("ack", "seen", { bufferSize: 1 << 16 });
    void (async () => {
      for await (const event of loadSub) {
        loads.take(event);
        // B answers every 100th event: the other direction, through the same cluster.
        if (loads.received % 100 === 0)
          busB.send({ system: "ack", kind: "seen", path: "", data: { seq: ++acksSent } });
      }
    })();
    void (async () => {
      for await (const event of ackSub) acks.take(event);
    })();

    let sent = 0;
    let streaming = true;
    const stream = (async () => {
      while (streaming) {
        for (let i = 0; i < 100; i++) {
          busA.send({ system: "load", kind: "tick", path: "", data: { seq: ++sent } });
        }
        await a.flush();
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    await vi.waitFor(() => expect(loads.received).toBeGreaterThanOrEqual(3000), LONG);
    await vi.waitFor(() => expect(acks.received).toBeGreaterThan(0), LONG);
    await cluster.nodes[0]!.kill();
    await vi.waitFor(() => expect(a.stats().reconnects).toBeGreaterThanOrEqual(1), LONG);
    // Events sent from here on can only have crossed through the nodes left.
    const sentAtReconnect = sent;
    await vi.waitFor(() => expect(loads.lastSeq).toBeGreaterThan(sentAtReconnect + 3000), LONG);
    await vi.waitFor(() => expect(acks.lastSeq).toBeGreaterThan(sentAtReconnect / 100 + 10), LONG);
    streaming = false;
    await stream;
    await a.flush();
    await b.flush();

    // Heartbeats count what went missing at the end of either stream within a beat or two.
    await vi.waitFor(() => {
      expect(loads.received + a.stats().dropped + b.stats().lost).toBe(sent);
      expect(acks.received + b.stats().dropped + a.stats().lost).toBe(acksSent);
    }, LONG);
    expect(loads.outOfOrder).toBe(0);
    expect(acks.outOfOrder).toBe(0);
    expect(a.stats()).toMatchObject({ disconnects: 1, reconnects: 1, connected: true });
    expect(b.stats().connected).toBe(true);
    for (const stats of [a.stats(), b.stats()]) {
      expect(stats).toMatchObject({ duplicates: 0, resyncs: 0, badMessages: 0, refused: 0 });
    }
    expect(a.stats().exported + a.stats().dropped).toBe(sent);
  });

  it("counts the events in flight when the exporter's node dies right behind the last of them", {
    timeout: 120_000,
  }, async () => {
    const busA = newBus();
    const busB = newBus();
    const a = await bridge({ bus: busA, servers: cluster.urls(0), prefix: "tail", export: ["load"] });
    const b = await bridge({ bus: busB, servers: cluster.urls(1), prefix: "tail", import: ["load"] });
    await cluster.waitForInterest(0, 1);
    const loads = new Receiver();
    const loadSub = await busB.subscribe("load", "tick", { bufferSize: 1 << 16 });
    void (async () => {
      for await (const event of loadSub) loads.take(event);
    })();
    const total = 20_000;
    for (let seq = 1; seq <= total; seq++)
      busA.send({ system: "load", kind: "tick", path: "", data: { seq } });
    // The moment the first events arrive, most of the rest are in A's buffers, the socket or node 1.
    await vi.waitFor(() => expect(loads.received).toBeGreaterThan(0), LONG);
    await cluster.nodes[0]!.kill();
    await vi.waitFor(() => expect(a.stats().reconnects).toBe(1), LONG);
    await a.flush();
    // No event follows the last one: only a heartbeat can tell B what went missing.
    await vi.waitFor(() => expect(loads.received + a.stats().dropped + b.stats().lost).toBe(total), LONG);
    expect(loads.outOfOrder).toBe(0);
    expect(b.stats()).toMatchObject({ duplicates: 0, resyncs: 0, badMessages: 0 });
  });
});
