import { afterEach, describe, expect, it, vi } from "vitest";
import type { PoolOutcome } from "../src/pool/index.js";
import { Harness, job, type TaskData, type TaskResult } from "./fixtures/pool-helpers.js";

const harness = new Harness();
afterEach(() => harness.teardown());

const WAIT = { timeout: 15_000, interval: 5 };

describe("pool subscription - results and errors", () => {
  it("a failing task is reported with the event that caused it, and the bus keeps going", async () => {
    const bus = harness.bus();
    const pool = await harness.pool(bus, "image", "resize");
    const other = await bus.subscribe<TaskData>("image", "resize");
    bus.send(job(0));
    bus.send(job(1, { fail: true }));
    bus.send(job(2));
    const outcomes: PoolOutcome<TaskData, TaskResult>[] = [];
    for await (const outcome of pool) {
      outcomes.push(outcome);
      if (outcomes.length === 3) break;
    }
    expect(outcomes.map((outcome) => outcome.event.path)).toEqual(["jobs/0", "jobs/1", "jobs/2"]);
    expect(outcomes[1]!.error).toBeInstanceOf(Error);
    expect((outcomes[1]!.error as Error).message).toBe("task failed for jobs/1");
    expect(outcomes[2]!.result).toEqual({ path: "jobs/2", seq: 2 });
    expect(pool.stats()).toMatchObject({ completed: 2, failed: 1 });
    expect(other.stats().delivered).toBe(3);
    expect(bus.send(job(3))).toBe(true);
  });

  it("onResult and onError receive every outcome with its event", async () => {
    const bus = harness.bus();
    const results: [string, TaskResult][] = [];
    const errors: [string, unknown][] = [];
    const pool = await harness.pool(bus, "image", "**", {
      onResult: (event, result) => results.push([event.path, result]),
      onError: (event, error) => errors.push([event.path, error]),
    });
    for (let seq = 0; seq < 6; seq++) bus.send(job(seq, { fail: seq % 3 === 2 }));
    await vi.waitFor(() => expect(results.length + errors.length).toBe(6), WAIT);
    expect(results.map(([path]) => path)).toEqual(["jobs/0", "jobs/1", "jobs/3", "jobs/4"]);
    expect(errors.map(([path]) => path)).toEqual(["jobs/2", "jobs/5"]);
    expect(() => pool[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it("a callback that throws is logged and the next outcomes still arrive", async () => {
    const bus = harness.bus();
    const logged: unknown[] = [];
    const logger = { warn: () => undefined, error: (...details: unknown[]) => logged.push(details) };
    const seen: number[] = [];
    await harness.pool(bus, "image", "resize", {
      logger,
      onResult: (_event, result) => {
        seen.push(result.seq!);
        if (result.seq === 0) throw new Error("handler bug");
      },
    });
    bus.send(job(0));
    bus.send(job(1));
    await vi.waitFor(() => expect(seen).toEqual([0, 1]), WAIT);
    expect(logged).toHaveLength(1);
  });

  it("a task that throws undefined is still reported as a failure", async () => {
    const bus = harness.bus();
    const errors: unknown[] = [];
    const pool = await harness.pool(bus, "image", "resize", {
      onError: (_event, error) => errors.push(error),
    });
    bus.send(job(0, { throwUndefined: true }));
    await vi.waitFor(() => expect(errors).toHaveLength(1), WAIT);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(pool.stats().failed).toBe(1);
  });

  it("a task running past taskTimeoutMs fails with TIMEOUT and the pool runs the next task", async () => {
    const bus = harness.bus();
    const gate = harness.gate();
    const pool = await harness.pool(bus, "image", "resize", { taskTimeoutMs: 1500 });
    bus.send(job(0, { gate: gate.view }));
    bus.send(job(1));
    const outcomes: PoolOutcome<TaskData, TaskResult>[] = [];
    for await (const outcome of pool) {
      outcomes.push(outcome);
      if (outcomes.length === 2) break;
    }
    expect(outcomes[0]!.event.path).toBe("jobs/0");
    expect(outcomes[0]!.error).toMatchObject({ code: "TIMEOUT", timeoutMs: 1500 });
    expect(outcomes[1]!.error).toBeUndefined();
    expect(outcomes[1]!.result).toEqual({ path: "jobs/1", seq: 1 });
    expect(pool.stats()).toMatchObject({ failed: 1, completed: 1, aborted: 0 });
  });

  it("the outcome iterator can be taken only once", async () => {
    const bus = harness.bus();
    const pool = await harness.pool(bus, "image", "resize");
    pool[Symbol.asyncIterator]();
    expect(() => pool[Symbol.asyncIterator]()).toThrow(TypeError);
  });
});
