import { MessageChannel } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { BusClient, type ClientConfig } from "../dist/client.js";
import { kStopTimeoutMs, sharedLayout, writeLayout } from "../dist/constants.js";
import { Dispatcher } from "../dist/dispatcher.js";
import { NAME_TABLE_BYTES } from "../dist/names.js";

/** A client on the same thread as the dispatcher: the loop is testable without a worker. */
class InThreadClient extends BusClient {
  constructor(config: ClientConfig, control: MessageChannel["port1"]) {
    super(config, control, console);
  }

  stop(options?: { timeoutMs?: number }): Promise<void> {
    this.markClosed();
    Atomics.store(this.header, kStopTimeoutMs, options?.timeoutMs ?? 5000);
    this.ring.close();
    return this.finished();
  }
}

function setup(ringBytes = 1 << 16) {
  const layout = sharedLayout(ringBytes, 16, 2, NAME_TABLE_BYTES);
  const buffer = new SharedArrayBuffer(layout.byteLength);
  writeLayout(buffer, layout, 1000);
  const control = new MessageChannel();
  const warnings: string[] = [];
  const dispatcher = new Dispatcher({
    buffer,
    control: control.port2,
    warn: (message) => warnings.push(message),
  });
  const client = new InThreadClient(
    { buffer, client: 0, nonce: 1, onFull: "throw", maxWaitMs: 0 },
    control.port1,
  );
  return { dispatcher, client, running: dispatcher.run(), warnings };
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

  it("stops in order: sends and a subscribe accepted before stop are applied, then every iterator ends", async () => {
    const { client, running } = setup();
    const sub = await client.subscribe("s");
    for (let i = 0; i < 100; i++) client.send({ system: "s", kind: "k", path: String(i) });
    const late = client.subscribe("late").then(
      () => "subscribed",
      (error: { code?: string }) => error.code,
    );
    // The dispatcher runs on this thread, so nothing was read yet: stop must still deliver all 100.
    const stopped = client.stop();
    await running;
    await stopped;
    expect(await late).toBe("subscribed");
    expect(client.send({ system: "s", kind: "k", path: "after" })).toBe(false);
    expect(client.stats()).toMatchObject({ sent: 100, delivered: 100, droppedOnStop: 0, subscriptions: 0 });
    const received: string[] = [];
    for await (const e of sub) received.push(e.path);
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });

  it("a subscriber that never reads holds stop for its timeout only: the send in delivery completes, the rest is dropped and counted", async () => {
    const { client, running } = setup();
    const stuck = await client.subscribe("s", "", { bufferSize: 4 });
    const other = await client.subscribe("s", "", { bufferSize: 100, overflow: "drop-newest" });
    for (let i = 0; i < 10; i++) client.send({ system: "s", kind: "k", path: String(i) });
    const started = performance.now();
    await client.stop({ timeoutMs: 50 });
    await running;
    expect(performance.now() - started).toBeLessThan(5000);
    // 4 fit stuck's buffer; the 5th blocked until the timeout, then went to stuck past its buffer
    // and on to other (GUARANTEES rule 10); the 5 after it are dropped whole and counted.
    expect(client.stats()).toMatchObject({ sent: 10, droppedOnStop: 5, delivered: 10 });
    expect(stuck.stats()).toMatchObject({ delivered: 5 });
    expect(other.stats()).toMatchObject({ delivered: 5 });
    const seen: string[] = [];
    for await (const e of stuck) seen.push(e.path);
    expect(seen).toEqual(["0", "1", "2", "3", "4"]);
  });
});
