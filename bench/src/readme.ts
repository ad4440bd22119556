#!/usr/bin/env node
import { readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { END_MARKER, renderSection, replaceSection, START_MARKER } from "./readme_section.js";
import { resultsSchema } from "./results_schema.js";

/**
 * `bench:readme`: writes the results section of the repository README between
 * `<!-- bench:start -->` and `<!-- bench:end -->`, from bench/results/latest.json. Without the
 * markers it prints the section instead, so it never damages a README it does not understand.
 * An argument names another README (used to try it on a copy).
 */
const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_README = resolve(BENCH_DIR, "..", "README.md");

async function main(): Promise<void> {
  const readmePath = resolve(process.argv.slice(2).find((a) => a !== "--") ?? DEFAULT_README);
  const results = resultsSchema.parse(
    JSON.parse(await readFile(resolve(BENCH_DIR, "results", "latest.json"), "utf8")),
  );
  const section = renderSection(results);
  let readme: string | null = null;
  try {
    readme = await readFile(readmePath, "utf8");
  } catch {
    readme = null;
  }
  const updated = readme === null ? null : replaceSection(readme, section);
  if (updated === null) {
    process.stderr.write(
      `${readmePath} has no ${START_MARKER} ... ${END_MARKER} markers: printing the section instead\n\n`,
    );
    process.stdout.write(`${section}\n`);
    return;
  }
  await writeFile(readmePath, updated);
  process.stdout.write(`updated the results section of ${readmePath}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
