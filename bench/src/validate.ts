#!/usr/bin/env node
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { resultsSchema } from "./results_schema.js";

/**
 * `bench:check [file...]`: checks that results files are well-formed (the zod schema, plus
 * consistency the schema cannot express). Never judges timings: CI machines are too noisy.
 * Without arguments it checks the file the last run wrote (results/.last) and the committed
 * results/latest.json (at least one of them must exist).
 */
const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "results");

async function defaultFiles(): Promise<string[]> {
  const files = new Set<string>();
  try {
    const last = (await readFile(join(RESULTS_DIR, ".last"), "utf8")).trim();
    if (last) files.add(last);
  } catch {
    // No run yet on this machine: only the committed results are checked.
  }
  const committed = join(RESULTS_DIR, "latest.json");
  if (existsSync(committed) || files.size === 0) files.add(committed);
  return [...files];
}

async function check(file: string): Promise<string[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    return [`cannot read: ${(error as Error).message}`];
  }
  const parsed = resultsSchema.safeParse(raw);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  const problems: string[] = [];
  const results = parsed.data;
  if (results.scenarios.length === 0) problems.push("no scenarios");
  for (const scenario of results.scenarios) {
    if (scenario.status === "failed") problems.push(`${scenario.id} failed: ${scenario.reason ?? "?"}`);
    if (scenario.status === "ok" && scenario.cases.length === 0)
      problems.push(`${scenario.id}: ok but no cases`);
    for (const c of scenario.cases) {
      for (const m of c.measurements) {
        const repeats = results.quick ? 1 : 3;
        if (m.samples.length !== repeats) {
          problems.push(`${c.id} / ${m.subject}: ${m.samples.length} samples, expected ${repeats}`);
        }
        const slack = 1e-9 * Math.abs(m.value);
        if (m.min - slack > m.value || m.value > m.max + slack)
          problems.push(`${c.id} / ${m.subject}: mean outside [min, max]`);
      }
      const subjects = new Set(c.measurements.map((m) => m.subject));
      for (const r of c.ratios) {
        if (!subjects.has(r.subject) || !subjects.has(r.peer))
          problems.push(`${c.id}: ratio names an unknown subject`);
      }
    }
  }
  return problems;
}

async function main(): Promise<number> {
  const files = process.argv.slice(2).filter((a) => a !== "--");
  let failed = false;
  for (const file of files.length > 0 ? files.map((f) => resolve(f)) : await defaultFiles()) {
    const problems = await check(file);
    if (problems.length === 0) process.stdout.write(`ok    ${file}\n`);
    else {
      failed = true;
      process.stdout.write(`FAIL  ${file}\n${problems.map((p) => `      ${p}\n`).join("")}`);
    }
  }
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code));
