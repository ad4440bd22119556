import { describe, expect, it } from "vitest";
import { parseArguments, UsageError } from "../src/arguments.js";
import { renderChart } from "../src/chart.js";
import { checkResults } from "../src/check_results.js";
import { judgeGoals } from "../src/goals.js";
import { END_MARKER, renderSection, replaceSection, START_MARKER } from "../src/readme_section.js";
import { renderTable } from "../src/table.js";
import { resultsOf, scenarioWith } from "./helpers.js";

async function sampleResults() {
  const b = await scenarioWith("b-wildcard", "b-wildcard", [
    {
      subject: "threadbus Subscriber (callback)",
      threadbus: true,
      unit: "events/s",
      values: [6e6, 6e6, 6e6],
    },
    { subject: "EventEmitter2 (wildcard)", threadbus: false, unit: "events/s", values: [1e6, 1e6, 1e6] },
  ]);
  const c10 = await scenarioWith("c10", "c-match-10k-cold", [
    {
      subject: "threadbus SubscriptionIndex.matchUncached",
      threadbus: true,
      unit: "ns/op",
      values: [100, 100, 100],
    },
  ]);
  const c100 = await scenarioWith("c100", "c-match-100k-cold", [
    {
      subject: "threadbus SubscriptionIndex.matchUncached",
      threadbus: true,
      unit: "ns/op",
      values: [300, 300, 300],
    },
  ]);
  const warm = await scenarioWith("cw", "c-match-100k-warm", [
    { subject: "threadbus SubscriptionIndex.match", threadbus: true, unit: "ns/op", values: [40, 40, 40] },
  ]);
  const d = await scenarioWith("d-cross-thread", "d-cross-thread-64", [
    {
      subject: "postMessage, 1 event per message",
      threadbus: false,
      unit: "events/s",
      values: [2e5, 2e5, 2e5],
    },
  ]);
  d.cases[0]!.skipped.push({ subject: "threadbus WorkerBus", reason: "not <built> yet" });
  return resultsOf([b, c10, c100, warm, d]);
}

describe("goals", () => {
  it("judges each goal met, missed or not measured from the figures of the run", async () => {
    const goals = judgeGoals((await sampleResults()).scenarios, { cpuCount: 2 });
    const byId = Object.fromEntries(goals.map((g) => [g.id, g]));
    expect(byId["b-vs-ee2"]!.met).toBe(true);
    expect(byId["b-vs-ee2"]!.actual).toBe("6.00x");
    expect(byId["c-warm-100k"]!.met).toBe(true);
    expect(byId["c-cold-scaling"]!.met).toBe(false);
    expect(byId["c-cold-scaling"]!.actual).toContain("3.00x");
    expect(byId["c-warm-scaling"]!.met).toBeNull();
    expect(byId["d-vs-plain"]!.met).toBeNull();
    expect(byId["j-4x4"]!.actual).toBe("not measured in this run");
  });
});

describe("results file check", () => {
  it("accepts what the harness writes", async () => {
    expect(checkResults(JSON.parse(JSON.stringify(await sampleResults())))).toEqual([]);
  });

  it("names the field when the JSON does not match the schema", async () => {
    const broken = JSON.parse(JSON.stringify(await sampleResults()));
    delete broken.machine.cpuCount;
    broken.scenarios[0].cases[0].measurements[0].value = "fast";
    const problems = checkResults(broken);
    expect(problems.some((p) => p.startsWith("machine.cpuCount"))).toBe(true);
    expect(problems.some((p) => p.startsWith("scenarios.0.cases.0.measurements.0.value"))).toBe(true);
  });

  it("reports failed scenarios, wrong repeat counts and a mean outside its spread", async () => {
    const results = JSON.parse(JSON.stringify(await sampleResults()));
    results.scenarios[1].status = "failed";
    results.scenarios[1].reason = "boom";
    results.scenarios[0].cases[0].measurements[0].samples = [1];
    results.scenarios[2].cases[0].measurements[0].value = 1e9;
    const problems = checkResults(results);
    expect(problems).toContain("c10 failed: boom");
    expect(problems.some((p) => p.includes("1 samples, expected 3"))).toBe(true);
    expect(problems.some((p) => p.includes("mean outside [min, max]"))).toBe(true);
  });
});

describe("table, chart and README section", () => {
  it("prints every subject, its ratio to threadbus, skipped subjects and the goals", async () => {
    const table = renderTable(await sampleResults());
    expect(table).toContain("* threadbus Subscriber (callback)");
    expect(table).toContain("Subscriber (callback) 6.00x");
    expect(table).toContain("threadbus WorkerBus: skipped: not <built> yet");
    expect(table).toContain("[MISS] (c) cold match cost");
  });

  it("prints a measurement's secondary figures beside its headline, in the table and the README", async () => {
    const j = await scenarioWith("j-scale", "j-scale-4x4", [
      {
        subject: "threadbus WorkerBus + attach()",
        threadbus: true,
        unit: "events/s",
        values: [1e6, 1e6, 1e6],
        extra: [{ name: "deliveries", value: 4e6, unit: "events/s" }],
      },
    ]);
    const results = resultsOf([j]);
    expect(checkResults(JSON.parse(JSON.stringify(results)))).toEqual([]);
    expect(renderTable(results)).toContain("deliveries 4.00 M events/s");
    expect(renderSection(results)).toContain("| 1.00 M events/s; deliveries 4.00 M events/s |");
  });

  it("draws a well-formed SVG with one bar per measurement and escaped labels", async () => {
    const results = await sampleResults();
    const svg = renderChart(results);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    const bars = (svg.match(/<rect x="300"/g) ?? []).length;
    expect(bars).toBe(results.scenarios.flatMap((s) => s.cases).flatMap((c) => c.measurements).length);
    expect(svg).toContain("not &lt;built&gt; yet");
    expect(svg).not.toContain("not <built>");
  });

  it("replaces only what is between the markers, and refuses a README without them", async () => {
    const section = renderSection(await sampleResults());
    expect(section).toContain("| b-wildcard label | **threadbus Subscriber (callback)** |");
    expect(section).toContain("bench/results/latest.svg");
    const readme = `# title\n${START_MARKER}\nstale section\n${END_MARKER}\nafter\n`;
    const updated = replaceSection(readme, section)!;
    expect(updated).not.toContain("stale section");
    expect(updated.startsWith(`# title\n${START_MARKER}\n`)).toBe(true);
    expect(updated.endsWith(`${END_MARKER}\nafter\n`)).toBe(true);
    expect(replaceSection(updated, "x")).toBe(`# title\n${START_MARKER}\nx\n${END_MARKER}\nafter\n`);
    expect(replaceSection("# no markers\n", section)).toBeNull();
  });
});

describe("command line", () => {
  it("takes filters, --quick and --out, and ignores the -- that pnpm forwards", () => {
    const args = parseArguments(["--", "b-wild", "--quick", "latency", "--out", "/tmp/x"]);
    expect(args).toEqual({ filters: ["b-wild", "latency"], quick: true, out: "/tmp/x" });
  });

  it("rejects unknown options and a missing --out directory with a usage error", () => {
    expect(() => parseArguments(["--fast"])).toThrow(UsageError);
    expect(() => parseArguments(["--out"])).toThrow("--out needs a directory");
  });
});
