import { describe, expect, it } from "vitest";
import { Unavailable } from "../src/scenario.js";
import { summarise } from "../src/stats.js";
import { recorder, scenarioWith } from "./helpers.js";

describe("summarise", () => {
  it("gives the mean, min, max and sample standard deviation of the repeats", () => {
    const s = summarise([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.min).toBe(2);
    expect(s.max).toBe(9);
    expect(s.stddev).toBeCloseTo(2.138, 3);
  });

  it("reports no spread for a single repeat", () => {
    expect(summarise([42])).toEqual({ mean: 42, min: 42, max: 42, stddev: 0 });
  });
});

describe("CaseRecorder", () => {
  it("runs setup once, then one repeat per configured repeat, and keeps every sample", async () => {
    const rec = recorder(3);
    const target = rec.case("x", "x");
    let setups = 0;
    const seen: number[] = [];
    const m = await rec.subject(target, {
      subject: "threadbus Bus",
      threadbus: true,
      unit: "events/s",
      setup: () => ++setups,
      repeat: (_s, i) => {
        seen.push(i);
        return { value: (i + 1) * 100 };
      },
    });
    expect(setups).toBe(1);
    expect(seen).toEqual([0, 1, 2]);
    expect(m?.samples).toEqual([100, 200, 300]);
    expect(m?.value).toBe(200);
    expect([m?.min, m?.max]).toEqual([100, 300]);
  });

  it("divides throughputs so that a ratio above 1 means threadbus is ahead", async () => {
    const scenario = await scenarioWith("a", "a", [
      { subject: "threadbus Bus", threadbus: true, unit: "events/s", values: [300, 300, 300] },
      { subject: "peer", threadbus: false, unit: "events/s", values: [100, 100, 100] },
    ]);
    expect(scenario.cases[0]!.ratios).toEqual([{ subject: "threadbus Bus", peer: "peer", ratio: 3 }]);
  });

  it("inverts costs and latencies so that a ratio above 1 still means threadbus is ahead", async () => {
    const scenario = await scenarioWith("c", "c", [
      { subject: "threadbus index", threadbus: true, unit: "ns/op", values: [50, 50, 50] },
      { subject: "linear scan", threadbus: false, unit: "ns/op", values: [500, 500, 500] },
    ]);
    expect(scenario.cases[0]!.ratios[0]!.ratio).toBe(10);
  });

  it("computes no ratio between memory deltas, which change sign around zero", async () => {
    const scenario = await scenarioWith("g", "g", [
      { subject: "threadbus Bus", threadbus: true, unit: "bytes", values: [-100, 200, 50] },
      { subject: "peer", threadbus: false, unit: "bytes", values: [10, 20, 30] },
    ]);
    expect(scenario.cases[0]!.ratios).toEqual([]);
    expect(scenario.cases[0]!.measurements).toHaveLength(2);
  });

  it("records a subject whose setup throws Unavailable as skipped, with the reason, and goes on", async () => {
    const rec = recorder(1);
    const target = rec.case("d", "d");
    const result = await rec.subject(target, {
      subject: "threadbus WorkerBus",
      threadbus: true,
      unit: "events/s",
      setup: () => {
        throw new Unavailable("not built yet");
      },
      repeat: () => ({ value: 1 }),
    });
    expect(result).toBeNull();
    expect(target.skipped).toEqual([{ subject: "threadbus WorkerBus", reason: "not built yet" }]);
    expect(target.measurements).toEqual([]);
  });

  it("lets any other setup error fail the scenario, and still runs teardown after a failed repeat", async () => {
    const rec = recorder(1);
    const target = rec.case("d", "d");
    await expect(
      rec.subject(target, {
        subject: "s",
        threadbus: false,
        unit: "events/s",
        setup: () => {
          throw new Error("boom");
        },
        repeat: () => ({ value: 1 }),
      }),
    ).rejects.toThrow("boom");
    let tornDown = false;
    await expect(
      rec.subject(target, {
        subject: "s",
        threadbus: false,
        unit: "events/s",
        setup: () => null,
        repeat: () => {
          throw new Error("lost events");
        },
        teardown: () => {
          tornDown = true;
        },
      }),
    ).rejects.toThrow("lost events");
    expect(tornDown).toBe(true);
  });

  it("averages percentiles over repeats", async () => {
    const rec = recorder(3);
    const target = rec.case("f", "f");
    const m = await rec.subject(target, {
      subject: "threadbus Bus",
      threadbus: true,
      unit: "µs",
      setup: () => null,
      repeat: (_s, i) => ({ value: 10 + i, p50: 10 + i, p99: 100 * (i + 1) }),
    });
    expect(m?.p50).toBe(11);
    expect(m?.p99).toBe(200);
    expect(m?.p999).toBeUndefined();
  });
});

describe("secondary figures", () => {
  it("averages each extra by name over the repeats that reported it, and never takes ratios of them", async () => {
    const rec = recorder(3);
    const target = rec.case("f", "f");
    const cpu = [10, 20, undefined];
    const m = await rec.subject(target, {
      subject: "threadbus WorkerBus",
      threadbus: true,
      unit: "µs",
      setup: () => null,
      repeat: (_s, i) => ({
        value: 5,
        extra: [
          { name: "deliveries", value: 1000 * (i + 1), unit: "events/s" as const },
          ...(cpu[i] === undefined
            ? []
            : [{ name: "dispatcher CPU", value: cpu[i]!, unit: "% of a core" as const }]),
        ],
      }),
    });
    expect(m?.extra).toEqual([
      { name: "deliveries", value: 2000, unit: "events/s" },
      { name: "dispatcher CPU", value: 15, unit: "% of a core" },
    ]);
    expect(rec.finish()[0]!.ratios).toEqual([]);
  });

  it("leaves extra out of a measurement whose repeats reported none", async () => {
    const rec = recorder(1);
    const m = await rec.subject(rec.case("a", "a"), {
      subject: "s",
      threadbus: false,
      unit: "events/s",
      setup: () => null,
      repeat: () => ({ value: 1 }),
    });
    expect(m).not.toHaveProperty("extra");
  });
});

describe("ratio groups", () => {
  it("compares subjects only within their group, so in-thread is never set against cross-thread", async () => {
    const rec = recorder(1);
    const target = rec.case("f", "f");
    const add = (subject: string, threadbus: boolean, group: string, value: number) =>
      rec.subject(target, {
        subject,
        threadbus,
        group,
        unit: "µs",
        setup: () => null,
        repeat: () => ({ value }),
      });
    await add("threadbus Bus", true, "in-thread", 4);
    await add("threadbus WorkerBus", true, "cross-thread", 100);
    await add("eventemitter3", false, "in-thread", 2);
    await add("postMessage", false, "cross-thread", 50);
    const pairs = rec.finish()[0]!.ratios.map((r) => `${r.subject} / ${r.peer} = ${r.ratio}`);
    expect(pairs).toEqual(["threadbus Bus / eventemitter3 = 0.5", "threadbus WorkerBus / postMessage = 0.5"]);
  });
});
