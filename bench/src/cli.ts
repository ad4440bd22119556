#!/usr/bin/env node
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Arguments, parseArguments, UsageError } from "./arguments.js";
import { renderChart } from "./chart.js";
import { judgeGoals } from "./goals.js";
import { formatSeconds, Progress } from "./progress.js";
import { type Results, resultsSchema, type ScenarioResult } from "./results_schema.js";
import { CaseRecorder } from "./scenario.js";
import { scenarios } from "./scenarios/index.js";
import { renderTable } from "./table.js";

const USAGE = `usage: pnpm bench [-- [filter...] [--quick] [--out <dir>]]

  filter      run only scenarios whose id contains one of these (e.g. "b-wild", "latency")
  --quick     short version (about 40 s on 2 cores, one repeat): checks the harness runs, not for comparison
  --out DIR   write results there (default: bench/results for a full run, bench/results/partial otherwise)

scenarios: ${scenarios.map((s) => s.id).join(", ")}`;

/** Where results go by default; `.last` names the newest results file for `bench:check`. */
export const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "results");
export const LAST_RUN_FILE = join(RESULTS_DIR, ".last");

async function runScenarios(args: Arguments, progress: Progress): Promise<ScenarioResult[]> {
  const selected = scenarios.filter(
    (s) => args.filters.length === 0 || args.filters.some((f) => s.id.includes(f)),
  );
  if (selected.length === 0) throw new UsageError(`no scenario id contains ${args.filters.join(" or ")}`);
  const results: ScenarioResult[] = [];
  for (const scenario of selected) {
    progress.scenario(scenario.id, scenario.title);
    const started = performance.now();
    const base = { id: scenario.id, title: scenario.title, measures: scenario.measures };
    const reason = (await scenario.unavailable?.()) ?? null;
    if (reason !== null) {
      progress.note(`skipped: ${reason}`);
      results.push({ ...base, status: "skipped", reason, durationMs: 0, cases: [] });
      continue;
    }
    const recorder = new CaseRecorder({ quick: args.quick, repeats: args.quick ? 1 : 3, progress });
    try {
      await scenario.run(recorder);
      results.push({
        ...base,
        status: "ok",
        durationMs: performance.now() - started,
        cases: recorder.finish(),
      });
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      progress.note(`FAILED: ${message}`);
      results.push({
        ...base,
        status: "failed",
        reason: message.split("\n")[0]!,
        durationMs: performance.now() - started,
        cases: recorder.finish(),
      });
    }
    progress.note(`${scenario.id} done in ${formatSeconds(performance.now() - started)}`);
  }
  return results;
}

function machine(): Results["machine"] {
  const cpus = os.cpus();
  return {
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() || "unknown",
    // The cores this process may run on (CPU affinity), which is what the scenarios get; os.cpus()
    // lists every CPU of the host.
    cpuCount: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
  };
}

async function writeResults(results: Results, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const stamp = results.date.slice(0, 10) + (results.quick ? "-quick" : "");
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const svg = renderChart(results);
  const jsonPath = join(outDir, `${stamp}.json`);
  await Promise.all([
    writeFile(jsonPath, json),
    writeFile(join(outDir, "latest.json"), json),
    writeFile(join(outDir, `${stamp}.svg`), svg),
    writeFile(join(outDir, "latest.svg"), svg),
  ]);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(LAST_RUN_FILE, `${join(outDir, "latest.json")}\n`);
  return jsonPath;
}

async function main(): Promise<number> {
  const args = parseArguments(process.argv.slice(2));
  const progress = new Progress();
  const date = new Date().toISOString();
  process.stderr.write(
    `threadbus bench${args.quick ? " --quick" : ""}: ${os.cpus().length} CPUs, Node ${process.version}. ` +
      "Other load on this machine skews the figures; compare runs from the same machine only.\n",
  );
  const scenarioResults = await runScenarios(args, progress);
  const host = machine();
  const results: Results = resultsSchema.parse({
    schemaVersion: 1,
    date,
    quick: args.quick,
    filter: args.filters.length > 0 ? args.filters.join(" ") : null,
    node: process.version,
    machine: host,
    durationMs: progress.elapsedMs,
    scenarios: scenarioResults,
    goals: judgeGoals(scenarioResults, host),
  });
  process.stdout.write(`${renderTable(results)}\n`);
  const full = !args.quick && args.filters.length === 0;
  const outDir = args.out ?? (full ? RESULTS_DIR : join(RESULTS_DIR, "partial"));
  const written = await writeResults(results, outDir);
  process.stdout.write(`\nwrote ${written} (+ latest.json, .svg) in ${formatSeconds(progress.elapsedMs)}\n`);
  return scenarioResults.some((s) => s.status === "failed") ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      if (error.message) process.stderr.write(`${error.message}\n\n`);
      process.stderr.write(`${USAGE}\n`);
      process.exit(error.message ? 2 : 0);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
