import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { BusClient, type ClientConfig } from "../dist/client.js";
import { kMaxClients, kMaxSubscribers, sharedLayout } from "../dist/constants.js";
import { Dispatcher } from "../dist/dispatcher.js";
import { Ring } from "../dist/ring.js";

/** A client on the same thread as the dispatcher: the loop is testable without a worker. */
class InThreadClient extends BusClient {
  constructor(config: ClientConfig, control: MessageChannel["port1"]) {
    super(config, control, console);
  }

  stop(): Promise<void> {
    this.markClosed();
    this.ring.close();
    this.wakeDispatcher();
    return this.finished();
  }
}

function setup(ringBytes = 1 << 16) {
  const layout = sharedLayout(ringBytes, 16, 2);
  const buffer = new SharedArrayBuffer(layout.byteLength);
  Ring.initialize(buffer, ringBytes);
  const header = new Int32Array(buffer, 0, 64);
  Atomics.store(header, kMaxSubscribers, 16);
  Atomics.store(header, kMaxClients, 2);
  const control = new MessageChannel();
  const warnings: string[] = [];
  const dispatcher = new Dispatcher({
    buffer,
    ringOffset: layout.ringOffset,
    countersOffset: layout.countersOffset,
    control: control.port2,
    warn: (message) => warnings.push(message),
  });
  const client = new InThreadClient(
    {
      buffer,
      ringOffset: layout.ringOffset,
      countersOffset: layout.countersOffset,
      client: 0,
      onFull: "throw",
      maxWaitMs: 0,
    },
    control.port1,
  );
  return { dispatcher, client, running: dispatcher.run() };
}

describe("dispatcher loop (in-thread)", () => {
  it("routes events in ring order to matching subscriptions and finishes after stop", async () => {
    const { dispatcher, client, running } = setup();
    const numbers = await client.subscribe("n", "(odd|even)");
    const odd = await client.subscribe("n", "odd", { bufferSize: 4, overflow: "drop-newest" });
    for (let i = 0; i < 20; i++)
      client.send({ system: "n", kind: i % 2 ? "odd" : "even", path: String(i), data: i });
    await client.flush();
    expect(dispatcher.eventsRead).toBe(20);
    expect(odd.stats()).toMatchObject({ delivered: 4, dropped: 6, buffered: 4 });
    expect(numbers.stats()).toMatchObject({ delivered: 20, buffered: 20 });
    await client.stop();
    await running;
    const seen: number[] = [];
    for await (const e of numbers) seen.push(e.data as number);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(client.stats()).toMatchObject({
      sent: 20,
      delivered: 24,
      dropped: 6,
      subscriptions: 0,
      queued: 0,
    });
  });

  it("counts sends still in the ring when stop is seen as droppedOnStop, and rejects a pending subscribe", async () => {
    const { client, running } = setup();
    const sub = await client.subscribe("s");
    for (let i = 0; i < 100; i++) client.send({ system: "s", kind: "k", path: String(i) });
    const late = client.subscribe("late").then(
      () => "subscribed",
      (error: { code?: string }) => error.code,
    );
    // The dispatcher runs on this thread, so nothing was read yet: stop drops all 100.
    const stopped = client.stop();
    await running;
    await stopped;
    expect(await late).toBe("BUS_CLOSED");
    expect(client.stats()).toMatchObject({ sent: 100, delivered: 0, droppedOnStop: 100 });
    const received: unknown[] = [];
    for await (const e of sub) received.push(e);
    expect(received).toEqual([]);
  });
});
