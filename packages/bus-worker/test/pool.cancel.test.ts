import { afterEach, describe, expect, it, vi } from "vitest";
import type { PoolOutcome } from "../src/pool/index.js";
import { Harness, job, type TaskData, type TaskResult } from "./fixtures/pool-helpers.js";

const harness = new Harness();
afterEach(() => harness.teardown());

const WAIT = { timeout: 15_000, interval: 5 };

function codeOf(outcome: PoolOutcome<TaskData, TaskResult>): string | undefined {
  return (outcome.error as { code?: string } | undefined)?.code;
}

/** Reads every outcome until the subscription ends. */
async function readAll(outcomes: AsyncIterable<PoolOutcome<TaskData, TaskResult>>) {
  const seen: PoolOutcome<TaskData, TaskResult>[] = [];
  for await (const outcome of outcomes) seen.push(outcome);
  return seen;
}

describe("pool subscription - cancellation", () => {
  it("close() aborts queued tasks at once and waits for the running one", async () => {
    const bus = harness.bus();
    const gate = harness.gate();
    const pool = await harness.pool(bus, "image", "resize", { bufferSize: 8 });
    const reading = readAll(pool);
    bus.send(job(0, { gate: gate.view }));
    for (let seq = 1; seq <= 3; seq++) bus.send(job(seq));
    await vi.waitFor(() => {
      expect(gate.started).toBe(1);
      expect(pool.stats().queued).toBe(3);
    }, WAIT);

    let closed = false;
    const closing = pool.close().then(() => {
      closed = true;
    });
    await vi.waitFor(() => expect(pool.stats().aborted).toBe(3), WAIT);
    expect(closed).toBe(false);
    expect(pool.stats().running).toBe(1);

    gate.open();
    await closing;
    const outcomes = await reading;
    expect(outcomes.map((outcome) => [outcome.event.data?.seq, codeOf(outcome)])).toEqual([
      [1, "ABORT_ERR"],
      [2, "ABORT_ERR"],
      [3, "ABORT_ERR"],
      [0, undefined],
    ]);
    expect(outcomes[3]!.result).toEqual({ path: "jobs/0", seq: 0 });
    expect(pool.stats()).toMatchObject({ received: 4, completed: 1, aborted: 3, queued: 0, running: 0 });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it("a running task that outlives closeTimeoutMs is aborted with a TimeoutError as cause", async () => {
    const bus = harness.bus();
    const gate = harness.gate();
    const pool = await harness.pool(bus, "image", "resize", { closeTimeoutMs: 50 });
    const reading = readAll(pool);
    bus.send(job(0, { gate: gate.view }));
    await vi.waitFor(() => expect(gate.started).toBe(1), WAIT);
    await pool.close();
    const [outcome] = await reading;
    expect(codeOf(outcome!)).toBe("ABORT_ERR");
    expect((outcome!.error as Error).cause).toMatchObject({ code: "TIMEOUT", timeoutMs: 50 });
    expect(pool.stats()).toMatchObject({ aborted: 1, running: 0, completed: 0 });
  });

  it("aborting the subscription's signal closes it like close()", async () => {
    const bus = harness.bus();
    const gate = harness.gate();
    const controller = new AbortController();
    const pool = await harness.pool(bus, "image", "resize", { signal: controller.signal });
    const reading = readAll(pool);
    bus.send(job(0, { gate: gate.view }));
    bus.send(job(1));
    await vi.waitFor(() => expect(pool.stats().queued).toBe(1), WAIT);
    controller.abort(new Error("shutting down"));
    expect(pool.closed).toBe(true);
    gate.open();
    const outcomes = await reading;
    expect(outcomes.map((outcome) => [outcome.event.data?.seq, codeOf(outcome)])).toEqual([
      [1, "ABORT_ERR"],
      [0, undefined],
    ]);
    // Later sends no longer reach it.
    expect(bus.send(job(2))).toBe(true);
    await bus.flush();
    expect(pool.stats().received).toBe(2);
  });

  it("a signal aborted before subscribePool rejects with ABORT_ERR and subscribes nothing", async () => {
    const bus = harness.bus();
    const controller = new AbortController();
    controller.abort();
    await expect(harness.pool(bus, "image", "resize", { signal: controller.signal })).rejects.toMatchObject({
      code: "ABORT_ERR",
    });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it("bus.stop() aborts queued tasks, waits for the running one and ends the outcomes", async () => {
    const bus = harness.bus();
    const gate = harness.gate();
    const pool = await harness.pool(bus, "image", "resize", { bufferSize: 4 });
    const reading = readAll(pool);
    bus.send(job(0, { gate: gate.view }));
    for (let seq = 1; seq <= 2; seq++) bus.send(job(seq));
    await vi.waitFor(() => expect(pool.stats().queued).toBe(2), WAIT);
    await bus.stop();
    await vi.waitFor(() => expect(pool.stats().aborted).toBe(2), WAIT);
    expect(pool.closed).toBe(true);
    expect(pool.stats().running).toBe(1);
    gate.open();
    await pool.close();
    const outcomes = await reading;
    expect(outcomes.map((outcome) => [outcome.event.data?.seq, codeOf(outcome)])).toEqual([
      [1, "ABORT_ERR"],
      [2, "ABORT_ERR"],
      [0, undefined],
    ]);
  });

  it("bus.stop() while 'block' back-pressure holds the dispatcher still aborts and ends everything", async () => {
    const bus = harness.bus();
    const gate = harness.gate();
    const pool = await harness.pool(bus, "image", "resize", { bufferSize: 2, busBufferSize: 2 });
    const reading = readAll(pool);
    const sent = 30;
    bus.send(job(0, { gate: gate.view }));
    for (let seq = 1; seq < sent; seq++) bus.send(job(seq));
    await vi.waitFor(() => expect(pool.stats().received).toBe(4), WAIT);
    await bus.stop();
    await vi.waitFor(() => expect(pool.closed).toBe(true), WAIT);
    gate.open();
    await pool.close();
    const outcomes = await reading;
    const stats = pool.stats();
    expect(stats.completed).toBe(1);
    // Everything the pool took from the bus is accounted for; what the bus never delivered, it counted.
    expect(stats.received).toBe(stats.completed + stats.aborted);
    expect(outcomes).toHaveLength(stats.received);
    expect(stats.received + bus.stats().droppedOnStop).toBe(sent);
  });
});
