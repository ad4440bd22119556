import { describe, expect, it } from "vitest";
import { judgeGoals } from "../src/goals.js";
import type { Goal, ScenarioResult } from "../src/results_schema.js";
import { scenarioWith } from "./helpers.js";

const throughput = (subject: string, threadbus: boolean, group: string, value: number) => ({
  subject,
  threadbus,
  group,
  unit: "events/s" as const,
  values: [value, value, value],
});

/** d-cross-thread's subjects in one case: the WorkerBus and the batched peer, each with both consumers. */
function crossThreadCase(caseId: string, ratios: { ignores: number; reads: number }) {
  return scenarioWith("d-cross-thread", caseId, [
    throughput("threadbus WorkerBus, ignores data", true, "ignores data", 100 * ratios.ignores),
    throughput("threadbus WorkerBus, reads data", true, "reads data", 100 * ratios.reads),
    throughput("postMessage, batches of 64, ignores data", false, "ignores data", 100),
    throughput("postMessage, batches of 64, reads data", false, "reads data", 100),
  ]);
}

function scaleCase(shape: string, bus: number, byHand: number) {
  return scenarioWith("j-scale", `j-scale-${shape}`, [
    { subject: "threadbus WorkerBus + attach()", threadbus: true, unit: "events/s", values: [bus, bus, bus] },
    {
      subject: "postMessage fan-out by hand, batches of 64",
      threadbus: false,
      unit: "events/s",
      values: [byHand, byHand, byHand],
    },
  ]);
}

function goalsById(scenarios: ScenarioResult[], cpuCount = 2): Record<string, Goal> {
  return Object.fromEntries(judgeGoals(scenarios, { cpuCount }).map((g) => [g.id, g]));
}

describe("issue 12 goals", () => {
  it("judges the 64 B object goals within one consumer: 1.5x when it ignores data, 1.0x when it reads", async () => {
    const goals = goalsById([await crossThreadCase("d-cross-thread-64", { ignores: 1.4, reads: 1.1 })]);
    expect(goals["d-64-ignores"]!.met).toBe(false);
    expect(goals["d-64-ignores"]!.actual).toBe("1.40x");
    expect(goals["d-64-reads"]!.met).toBe(true);
    expect(goals["d-64-reads"]!.actual).toBe("1.10x");
    expect(goals["d-string"]!.met).toBeNull();
  });

  it("meets the string goal only when both consumers reach 2.5x, and names each", async () => {
    const one = goalsById([await crossThreadCase("d-cross-thread-64-string", { ignores: 3, reads: 2.4 })]);
    expect(one["d-string"]!.met).toBe(false);
    expect(one["d-string"]!.actual).toBe("3.00x (ignores data) / 2.40x (reads data)");
    const both = goalsById([await crossThreadCase("d-cross-thread-64-string", { ignores: 3, reads: 2.6 })]);
    expect(both["d-string"]!.met).toBe(true);
  });

  it("reports j-scale on any machine but judges it only with 16 cores or more", async () => {
    const scenarios = [
      await scaleCase("1x1", 0.6e6, 1e6),
      await scaleCase("4x4", 3.2e6, 1.5e6),
      await scaleCase("8x4", 2.9e6, 1.6e6),
    ];
    const small = goalsById(scenarios, 2);
    expect(small["j-4x4"]!.met).toBeNull();
    expect(small["j-4x4"]!.actual).toBe("2.13x on 2 cores (judged only on 16 or more)");
    expect(small["j-3m"]!.met).toBeNull();
    const large = goalsById(scenarios, 16);
    expect(large["j-4x4"]!.met).toBe(true);
    expect(large["j-3m"]!.met).toBe(true);
    expect(large["j-3m"]!.actual).toBe("3.20 M events/s (4x4)");
    const slower = goalsById([await scaleCase("4x4", 2.9e6, 1.5e6)], 16);
    expect(slower["j-4x4"]!.met).toBe(false);
    expect(slower["j-3m"]!.met).toBe(false);
  });

  it("judges latency at 10k/s: p99 against plain postMessage, p50 against 20 µs, the dispatcher's CPU", async () => {
    const latency = (busP99: number, cpu?: number) =>
      scenarioWith("f-latency", "f-latency-10k", [
        {
          subject: "threadbus WorkerBus",
          threadbus: true,
          group: "cross-thread",
          unit: "µs",
          values: [18, 18, 18],
          p50: [18, 18, 18],
          p99: [busP99, busP99, busP99],
          ...(cpu === undefined
            ? {}
            : { extra: [{ name: "dispatcher CPU", value: cpu, unit: "% of a core" }] }),
        },
        {
          subject: "postMessage, 1 event per message",
          threadbus: false,
          group: "cross-thread",
          unit: "µs",
          values: [30, 30, 30],
          p50: [30, 30, 30],
          p99: [150, 150, 150],
        },
      ]);
    const fast = goalsById([await latency(140, 12)]);
    expect(fast["f-p99"]!.met).toBe(true);
    expect(fast["f-p99"]!.actual).toBe("140 µs vs 150 µs");
    expect(fast["f-p50"]!.met).toBe(true);
    expect(fast["f-cpu"]!.met).toBe(true);
    expect(fast["f-cpu"]!.actual).toBe("12.0% of a core");
    const slow = goalsById([await latency(350, 96)]);
    expect(slow["f-p99"]!.met).toBe(false);
    expect(slow["f-cpu"]!.met).toBe(false);
    const unreported = goalsById([await latency(140)]);
    expect(unreported["f-cpu"]!.met).toBeNull();
    expect(unreported["f-cpu"]!.actual).toContain("not reported");
  });

  it("fails the memory goal when any repeat of any threadbus subject grew 5 MB or more", async () => {
    const memory = (workerBus: number[]) =>
      Promise.all([
        scenarioWith("g-memory", "g-memory", [
          { subject: "threadbus Bus", threadbus: true, unit: "bytes", values: [1000, -2000, 3000] },
          { subject: "eventemitter3", threadbus: false, unit: "bytes", values: [9e6, 9e6, 9e6] },
        ]),
        scenarioWith("g-memory-worker-bus", "g-memory-worker-bus", [
          { subject: "threadbus WorkerBus", threadbus: true, unit: "bytes", values: workerBus },
        ]),
      ]);
    const ok = goalsById(await memory([100, 200, 300]));
    expect(ok["g-heap"]!.met).toBe(true);
    expect(ok["g-heap"]!.actual).toBe(
      "Bus 2.9 KiB (g-memory label), WorkerBus 300 B (g-memory-worker-bus label)",
    );
    expect(goalsById(await memory([100, 6e6, 300]))["g-heap"]!.met).toBe(false);
  });
});

describe("issue 22 goals (judged on the Subscriber subject)", () => {
  const paths = (caseId: string, bus: number) =>
    scenarioWith("n-paths", caseId, [
      // The goals judge the Subscriber subject; the for-await one is slower and must not count.
      { subject: "threadbus Bus", threadbus: true, unit: "events/s", values: [1, 1, 1] },
      {
        subject: "threadbus Bus, Subscriber callbacks",
        threadbus: true,
        unit: "events/s",
        values: [bus, bus, bus],
      },
      { subject: "Map<path, handler> by hand", threadbus: false, unit: "events/s", values: [9e6, 9e6, 9e6] },
    ]);

  it("needs 1 M events/s at 100k literal-path subscriptions, and at most 2x slower than at 100", async () => {
    const met = goalsById([await paths("n-paths-100", 1.8e6), await paths("n-paths-100k", 1.1e6)]);
    expect(met["n-100k-rate"]!.met).toBe(true);
    expect(met["n-100k-flat"]!.met).toBe(true);
    const slow = goalsById([await paths("n-paths-100", 2.4e6), await paths("n-paths-100k", 0.9e6)]);
    expect(slow["n-100k-rate"]!.met).toBe(false);
    expect(slow["n-100k-flat"]!.met).toBe(false);
    expect(slow["n-100k-flat"]!.actual).toContain("2.67x slower");
  });

  it("judges nothing when the 100-subscription case did not run", async () => {
    const goals = goalsById([await paths("n-paths-100k", 1.1e6)]);
    expect(goals["n-100k-rate"]!.met).toBe(true);
    expect(goals["n-100k-flat"]!.met).toBeNull();
  });
});
