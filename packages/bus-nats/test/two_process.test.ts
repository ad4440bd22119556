import type { BusEvent } from "@threadbus/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { NatsBridge } from "../src/index.js";
import { newBus, startBridge } from "./fixtures/helpers.js";
import { NATS_SERVER, NatsServer } from "./fixtures/nats_server.js";
import { RemoteMachine } from "./fixtures/remote_machine.js";

const LONG = { timeout: 60_000, interval: 20 };

/** The receiving side in this process: counts events and checks the publisher's order as they come. */
class Receiver {
  received = 0;
  lastSeq = 0;
  outOfOrder = 0;

  constructor(
    readonly onProgress: (received: number) => void = () => {},
    readonly ackEvery = 5000,
  ) {}

  take(event: BusEvent): void {
    const seq = (event.data as { seq: number }).seq;
    if (seq <= this.lastSeq || event.path !== `load/${seq}`) this.outOfOrder++;
    this.lastSeq = seq;
    this.received++;
    if (this.received % this.ackEvery === 0) this.onProgress(this.received);
  }
}

describe.skipIf(NATS_SERVER === null)("two buses in two processes bridged through one nats-server", () => {
  let server: NatsServer;
  let machine: RemoteMachine;
  let bridge: NatsBridge | null = null;

  beforeEach(async () => {
    server = await NatsServer.start();
    machine = new RemoteMachine();
  });
  afterEach(async () => {
    await bridge?.stop();
    bridge = null;
    await machine?.close();
    await server?.stop();
  });

  async function receive(prefix: string, receiver: Receiver) {
    const bus = newBus();
    const subscription = await bus.subscribe("load", "tick", { bufferSize: 1 << 16 });
    void (async () => {
      const next = subscription.nextBatch!.bind(subscription);
      for (let batch = await next(); batch !== null; batch = await next())
        for (const e of batch) receiver.take(e);
    })();
    bridge = await startBridge({ bus, servers: server.url, prefix, import: ["load"] });
    return { bus, bridge };
  }

  it("exchange 100,000 events with none lost and the publisher's order kept", {
    timeout: 120_000,
  }, async () => {
    const total = 100_000;
    const receiver = new Receiver((received) => machine.ack(received));
    const { bridge: importer } = await receive("bulk", receiver);
    await machine.request("start", { servers: server.url, prefix: "bulk", outageBufferSize: 1000 });
    const published = await machine.request("publish", { count: total, batch: 1000, window: 20_000 });
    expect(published.sent).toBe(total);
    await vi.waitFor(() => expect(receiver.received).toBe(total), LONG);
    const remote = await machine.request("stop");
    expect(receiver.outOfOrder).toBe(0);
    expect(receiver.lastSeq).toBe(total);
    expect(remote.stats).toMatchObject({ exported: total, dropped: 0, buffered: 0 });
    expect(importer.stats()).toMatchObject({
      imported: total,
      lost: 0,
      duplicates: 0,
      badMessages: 0,
      refused: 0,
    });
  });

  it("survive a server restart mid-stream: received + dropped + lost == sent, order kept", {
    timeout: 120_000,
  }, async () => {
    const outageBufferSize = 500;
    const receiver = new Receiver();
    const { bridge: importer } = await receive("restart", receiver);
    await machine.request("start", { servers: server.url, prefix: "restart", outageBufferSize });
    const streaming = machine.request("stream", { batch: 100 });
    await vi.waitFor(() => expect(receiver.received).toBeGreaterThanOrEqual(3000), LONG);
    await server.stop();
    // Keep the server down until the publisher's outage buffer is full and it has started to drop.
    await vi.waitFor(async () => {
      const { stats } = await machine.request("stats");
      expect(stats?.connected).toBe(false);
      expect(stats?.dropped).toBeGreaterThanOrEqual(1000);
    }, LONG);
    // Events published after this point can only arrive through the restarted server.
    const { sent: sentBeforeRestart } = await machine.request("stats");
    await server.start();
    await vi.waitFor(() => expect(receiver.lastSeq).toBeGreaterThan(sentBeforeRestart! + 3000), LONG);
    await machine.request("halt");
    const { sent } = await streaming;
    const remote = await machine.request("stop");
    const dropped = remote.stats!.dropped;
    await vi.waitFor(() => expect(receiver.received + dropped + importer.stats().lost).toBe(sent), LONG);
    expect(receiver.outOfOrder).toBe(0);
    expect(remote.stats!.reconnects).toBeGreaterThanOrEqual(1);
    expect(importer.stats().reconnects).toBeGreaterThanOrEqual(1);
    // The buffer held at most its bound; everything past it was counted as dropped.
    expect(dropped).toBeGreaterThanOrEqual(1000);
    expect(remote.stats!.exported + dropped).toBe(sent);
    expect(importer.stats()).toMatchObject({ duplicates: 0, badMessages: 0 });
  });
});
