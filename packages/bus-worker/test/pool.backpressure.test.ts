import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PoolOutcome } from "../src/pool/index.js";
import { Harness, job, type TaskData, type TaskResult } from "./fixtures/pool-helpers.js";

const harness = new Harness();
afterEach(() => harness.teardown());

const WAIT = { timeout: 15_000, interval: 5 };

async function collect(outcomes: AsyncIterable<PoolOutcome<TaskData, TaskResult>>, count: number) {
  const seen: PoolOutcome<TaskData, TaskResult>[] = [];
  for await (const outcome of outcomes) {
    seen.push(outcome);
    if (seen.length === count) break;
  }
  return seen;
}

describe("pool subscription - back-pressure", () => {
  it("a slow pool under 'block' processes every event exactly once, in order of submission", async () => {
    const bus = harness.bus();
    const gate = harness.gate();
    const pool = await harness.pool(bus, "image", "resize", {
      bufferSize: 4,
      busBufferSize: 2,
      overflow: "block",
    });
    const sent = 60;
    bus.send(job(0, { gate: gate.view }));
    for (let seq = 1; seq < sent; seq++) bus.send(job(seq, { spinMs: 1 }));

    // While the first task holds the only worker, the pool buffer and the bus subscription's
    // buffer fill, and the rest stays in the bus queue: the dispatcher is blocked, nothing dropped.
    await vi.waitFor(() => {
      expect(gate.started).toBe(1);
      expect(pool.stats().queued).toBe(4);
    }, WAIT);
    // Delivered so far: 1 running + 4 in the pool buffer + 1 held by the blocked pool + 2 in the
    // bus subscription's buffer. The dispatcher holds the rest undelivered (bus.flush() would
    // wait behind them, so the counters are read as they stand).
    expect(bus.stats().delivered).toBeLessThanOrEqual(1 + 4 + 1 + 2);
    expect(pool.stats().received).toBeLessThanOrEqual(1 + 4 + 1);
    expect(bus.stats().dropped).toBe(0);

    gate.open();
    const outcomes = await collect(pool, sent);
    expect(outcomes.map((outcome) => outcome.error)).toEqual(new Array(sent).fill(undefined));
    expect(outcomes.map((outcome) => outcome.result?.seq)).toEqual([...Array(sent).keys()]);
    expect(pool.stats()).toMatchObject({
      received: sent,
      submitted: sent,
      completed: sent,
      dropped: 0,
      queued: 0,
      running: 0,
    });
  });

  it("back-pressure under 'block' reaches a publisher whose bus queue is bounded", async () => {
    const bounded = harness.bus({ maxQueue: 8, onFull: "drop" });
    const pool = await harness.pool(bounded, "image", "resize", { bufferSize: 2, busBufferSize: 1 });
    const sent = 40;
    // Read outcomes while publishing: unread outcomes would (rightly) hold the pool back too.
    const reading = collect(pool, sent);
    let refused = 0;
    for (let seq = 0; seq < sent; ) {
      if (bounded.send(job(seq, { spinMs: 2 }))) seq++;
      else {
        refused++;
        // The publisher waits for the pool to take work off the bus before it retries.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    const outcomes = await reading;
    expect(outcomes.map((outcome) => outcome.result?.seq)).toEqual([...Array(sent).keys()]);
    expect(refused).toBeGreaterThan(0);
    expect(bounded.stats().refused).toBe(refused);
  });

  it("under 'drop-newest' every drop is counted, and processed + dropped equals sent", async () => {
    const bus = harness.bus();
    const gate = harness.gate();
    const pool = await harness.pool(bus, "image", "resize", { bufferSize: 4, overflow: "drop-newest" });
    const sent = 50;
    bus.send(job(0, { gate: gate.view }));
    for (let seq = 1; seq < sent; seq++) bus.send(job(seq));
    await vi.waitFor(() => expect(pool.stats().received).toBe(sent), WAIT);
    gate.open();
    const outcomes = await collect(pool, 5);
    // One task ran, four waited in the buffer; every later event found the buffer full.
    expect(outcomes.map((outcome) => outcome.result?.seq)).toEqual([0, 1, 2, 3, 4]);
    await vi.waitFor(() => expect(pool.stats().running).toBe(0), WAIT);
    const stats = pool.stats();
    expect(stats.dropped).toBe(sent - 5);
    expect(stats.completed + stats.dropped).toBe(sent);
    expect(bus.stats().dropped).toBe(0);
  });

  it("under 'drop-oldest' the oldest waiting events are dropped and counted", async () => {
    const bus = harness.bus();
    const gate = harness.gate();
    const pool = await harness.pool(bus, "image", "resize", { bufferSize: 4, overflow: "drop-oldest" });
    const sent = 50;
    bus.send(job(0, { gate: gate.view }));
    for (let seq = 1; seq < sent; seq++) bus.send(job(seq));
    await vi.waitFor(() => expect(pool.stats().received).toBe(sent), WAIT);
    gate.open();
    const outcomes = await collect(pool, 5);
    // The running task is never dropped; the buffer keeps the newest four.
    expect(outcomes.map((outcome) => outcome.result?.seq)).toEqual([0, 46, 47, 48, 49]);
    const stats = pool.stats();
    expect(stats.dropped).toBe(sent - 5);
    expect(stats.completed + stats.dropped).toBe(sent);
  });

  it("an outcome reader that stops reading holds the pool back instead of growing a queue", async () => {
    const bus = harness.bus();
    const pool = await harness.pool(bus, "image", "resize", { bufferSize: 3, overflow: "drop-newest" });
    for (let seq = 0; seq < 30; seq++) bus.send(job(seq));
    await vi.waitFor(() => expect(pool.stats().received).toBe(30), WAIT);
    await vi.waitFor(() => expect(pool.stats().running).toBe(0), WAIT);
    // Three outcomes unread fill the buffer's share: nothing more is handed to the pool.
    // One task ran at once and three waited; after three outcomes stayed unread, nothing more
    // was handed to the pool: the fourth waits in the buffer.
    expect(pool.stats()).toMatchObject({ submitted: 3, completed: 3, queued: 1, dropped: 26 });
    const outcomes = await collect(pool, 4);
    expect(outcomes.map((outcome) => outcome.result?.seq)).toEqual([0, 1, 2, 3]);
  });

  it("stress: any buffer size and policy keeps received = completed + dropped, in order, with no loss under 'block'", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom("block" as const, "drop-newest" as const, "drop-oldest" as const),
        fc.integer({ min: 1, max: 80 }),
        async (bufferSize, busBufferSize, overflow, sent) => {
          const bus = harness.bus();
          const pool = await harness.pool(bus, "image", "**", {
            bufferSize,
            busBufferSize,
            overflow,
            pool: { minThreads: 1, maxThreads: 2 },
          });
          for (let seq = 0; seq < sent; seq++) bus.send(job(seq));
          const seqs: number[] = [];
          const reader = (async () => {
            for await (const outcome of pool) {
              expect(outcome.error).toBeUndefined();
              seqs.push(outcome.result!.seq!);
            }
          })();
          await vi.waitFor(() => {
            const stats = pool.stats();
            expect(stats.received).toBe(sent);
            expect(stats.completed + stats.dropped).toBe(sent);
          }, WAIT);
          await pool.close();
          await reader;
          const stats = pool.stats();
          expect(stats.completed).toBe(seqs.length);
          expect(new Set(seqs).size).toBe(seqs.length);
          if (overflow === "block") {
            expect(stats.dropped).toBe(0);
            expect([...seqs].sort((a, b) => a - b)).toEqual([...Array(sent).keys()]);
          }
          await harness.teardown();
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
