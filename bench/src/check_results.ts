import { readFile } from "node:fs/promises";
import { resultsSchema } from "./results_schema.js";

/** Problems with a results file: unreadable, not matching the schema, or inconsistent. Empty when fine. */
export async function checkResultsFile(file: string): Promise<string[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    return [`cannot read: ${(error as Error).message}`];
  }
  return checkResults(raw);
}

/** The same checks on an already-parsed JSON value. */
export function checkResults(raw: unknown): string[] {
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
