#!/usr/bin/env node
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkResultsFile } from "./check_results.js";

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

async function main(): Promise<number> {
  const files = process.argv.slice(2).filter((a) => a !== "--");
  let failed = false;
  for (const file of files.length > 0 ? files.map((f) => resolve(f)) : await defaultFiles()) {
    const problems = await checkResultsFile(file);
    if (problems.length === 0) process.stdout.write(`ok    ${file}\n`);
    else {
      failed = true;
      process.stdout.write(`FAIL  ${file}\n${problems.map((p) => `      ${p}\n`).join("")}`);
    }
  }
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code));
