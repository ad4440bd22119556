import { describe, expect, it } from "vitest";
import { type ChurnResult, churn } from "./fixtures/churn_logic.mjs";
import { attachedThread, nextMessage, useBuses } from "./support.js";

describe("subscription churn on four threads while events flow", () => {
  const start = useBuses();

  it("every event reaches exactly the subscriptions live for it, in order, once; drops only under drop policies, counted", async () => {
    const bus = await start({ onFull: "drop" });
    const control = new SharedArrayBuffer(8);
    const lastSent = new Int32Array(control, 0, 2);
    const count = 10_000;
    const workers = [1, 2, 3].map((seed) =>
      attachedThread(bus, { role: "churn", control, seed: seed * 7919 }),
    );
    const exited = workers.map((worker) => new Promise((resolve) => worker.once("exit", resolve)));
    // Every thread churns from the first event on (a worker takes a while to start).
    expect(await Promise.all(workers.map((worker) => nextMessage<string>(worker)))).toEqual([
      "ready",
      "ready",
      "ready",
    ]);
    const results = workers.map((worker) => nextMessage<ChurnResult>(worker));
    for (const worker of workers) worker.postMessage("go");
    const publisher = attachedThread(bus, { role: "churn-publisher", control, count });
    const published = nextMessage<string>(publisher);
    publisher.postMessage("go");
    const mine = churn(bus, {
      lastSent,
      isDone: () => Atomics.load(lastSent, 1) !== 0,
      total: () => Atomics.load(lastSent, 0),
      seed: 104729,
    });
    expect(await published).toBe("done");
    const all: ChurnResult[] = [await mine, ...(await Promise.all(results))];
    expect(await Promise.all(exited)).toEqual([0, 0, 0]);
    const problems = all.flatMap((result) => result.problems);
    expect(problems).toEqual([]);
    const subscriptions = all.reduce((sum, result) => sum + result.subscriptions, 0);
    const received = all.reduce((sum, result) => sum + result.received, 0);
    const dropped = all.reduce((sum, result) => sum + result.dropped, 0);
    console.log(
      `churn: ${subscriptions} subscriptions on 4 threads, ${received} events received, ${dropped} dropped`,
    );
    expect(subscriptions).toBeGreaterThan(20);
    await bus.flush();
    const stats = bus.stats();
    expect(stats.sent).toBe(count);
    expect(stats.subscriptions).toBe(0);
    expect(stats.dropped).toBe(dropped);
    expect(stats.delivered).toBeGreaterThanOrEqual(received);
  }, 60_000);
});
