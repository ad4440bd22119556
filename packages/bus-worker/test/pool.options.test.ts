import { afterEach, describe, expect, it } from "vitest";
import { type PoolSubscribeOptions, subscribePool } from "../src/pool/index.js";
import { Harness, TASK_FILE } from "./fixtures/pool-helpers.js";

const harness = new Harness();
afterEach(() => harness.teardown());

const cases: [string, Record<string, unknown>][] = [
  ["options.filename", { filename: "" }],
  ["options.filename", { filename: 42 }],
  ["options.filename", { filename: "/nonexistent/task.mjs" }],
  ["options.bufferSize", { bufferSize: 0 }],
  ["options.bufferSize", { bufferSize: 1.5 }],
  ["options.busBufferSize", { busBufferSize: -1 }],
  ["options.overflow", { overflow: "drop-all" }],
  ["options.path", { path: "" }],
  ["options.signal", { signal: {} }],
  ["options.taskTimeoutMs", { taskTimeoutMs: 0 }],
  ["options.closeTimeoutMs", { closeTimeoutMs: -5 }],
  ["options.onResult", { onResult: "yes" }],
  ["options.onError", { onError: 1 }],
  ["options.logger", { logger: { warn: () => undefined } }],
  ["options.pool", { pool: 3 }],
  ["options.pool.maxThreads", { pool: { maxThreads: 0 } }],
  ["options.pool.minThreads", { pool: { minThreads: 3, maxThreads: 1 } }],
  ["options.pool.concurrentTasksPerWorker", { pool: { concurrentTasksPerWorker: 0 } }],
  ["options.pool.maxQueue", { pool: { maxQueue: 10 } }],
  ["options.pool.filename", { pool: { filename: "x.mjs" } }],
];

describe("pool subscription - options", () => {
  for (const [option, patch] of cases) {
    it(`rejects a bad ${option} (${JSON.stringify(patch)}) with INVALID_OPTIONS before subscribing`, async () => {
      const bus = harness.bus();
      const options = { filename: TASK_FILE, ...patch } as unknown as PoolSubscribeOptions;
      await expect(subscribePool(bus, "image", "resize", options)).rejects.toMatchObject({
        code: "INVALID_OPTIONS",
        option,
      });
      expect(bus.stats().subscriptions).toBe(0);
    });
  }

  it("rejects missing options with INVALID_OPTIONS", async () => {
    const bus = harness.bus();
    await expect(
      subscribePool(bus, "image", "resize", undefined as unknown as PoolSubscribeOptions),
    ).rejects.toMatchObject({ code: "INVALID_OPTIONS", option: "options" });
  });

  it("rejects a bad system pattern with INVALID_PATTERN and leaves no subscription behind", async () => {
    const bus = harness.bus();
    await expect(subscribePool(bus, "image.(a|b", "resize", { filename: TASK_FILE })).rejects.toMatchObject({
      code: "INVALID_PATTERN",
    });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it("rejects on a stopped bus with BUS_CLOSED", async () => {
    const bus = harness.bus();
    await bus.stop();
    await expect(subscribePool(bus, "image", "resize", { filename: TASK_FILE })).rejects.toMatchObject({
      code: "BUS_CLOSED",
    });
  });

  it("accepts a file: URL or a path string as filename", async () => {
    const bus = harness.bus();
    const byUrl = await harness.pool(bus, "image", "resize", { filename: TASK_FILE });
    const byPath = await harness.pool(bus, "image", "resize", { filename: TASK_FILE.pathname });
    expect(byUrl.id).not.toBe(byPath.id);
    expect(bus.stats().subscriptions).toBe(2);
  });
});

describe("pool subscription - a misspelled or misplaced option names the closest key", () => {
  const typos: [string, Record<string, unknown>, string][] = [
    ["options.bufersize", { bufersize: 3 }, "bufferSize"],
    ["options.maxThreads", { maxThreads: 2 }, "pool.maxThreads"],
    ["options.pool.maxThread", { pool: { maxThread: 2 } }, "maxThreads"],
  ];
  for (const [option, patch, guess] of typos) {
    it(`refuses ${JSON.stringify(patch)}: did you mean '${guess}'?`, async () => {
      const bus = harness.bus();
      const options = { filename: TASK_FILE, ...patch } as unknown as PoolSubscribeOptions;
      const error = await subscribePool(bus, "image", "resize", options).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "INVALID_OPTIONS", option });
      expect((error as Error).message).toContain(`did you mean '${guess}'?`);
      expect(bus.stats().subscriptions).toBe(0);
    });
  }

  it("refuses a TypeScript task file up front, naming the fix, before any task runs", async () => {
    const bus = harness.bus();
    // The file exists: only its extension is wrong, so it is the extension check that refuses it.
    const source = new URL("../src/pool/options.ts", import.meta.url);
    const error = await subscribePool(bus, "image", "resize", { filename: source }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INVALID_OPTIONS", option: "options.filename" });
    expect((error as Error).message).toContain("compiled .js");
    expect(bus.stats().subscriptions).toBe(0);
  });
});
