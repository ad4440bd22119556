import { formatExtras, formatRatio, formatValue } from "./format.js";
import type { CaseResult, Goal, Measurement, Results } from "./results_schema.js";

function spread(m: Measurement): string {
  if (m.samples.length < 2) return "";
  return `${formatValue(m.min, m.unit)} – ${formatValue(m.max, m.unit)}`;
}

/** "threadbus Bus 2.31x" on each peer row: how many times better threadbus is (< 1: behind). */
function ratiosFor(c: CaseResult, peer: string): string {
  return c.ratios
    .filter((r) => r.peer === peer)
    .map((r) => `${r.subject.replace(/^threadbus /, "")} ${formatRatio(r.ratio)}`)
    .join(", ");
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ");
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line.length + word.length + 1 > width && line) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join("\n");
}

/** The plain-text report printed at the end of a run. */
export function renderTable(results: Results): string {
  const out: string[] = [];
  const header = ["subject", "mean", "spread over repeats", "p50", "p99", "also", "threadbus vs this peer"];
  for (const scenario of results.scenarios) {
    out.push("", `${scenario.id}  ${scenario.title}`);
    if (scenario.status !== "ok") {
      out.push(`  ${scenario.status}: ${scenario.reason ?? ""}`);
      continue;
    }
    out.push(wrap(scenario.measures, 104, "  | "));
    for (const c of scenario.cases) {
      const rows = c.measurements.map((m) => [
        `${m.threadbus ? "* " : "  "}${m.subject}`,
        formatValue(m.value, m.unit),
        spread(m),
        m.p50 === undefined ? "" : formatValue(m.p50, m.unit),
        m.p99 === undefined ? "" : formatValue(m.p99, m.unit),
        formatExtras(m.extra),
        m.threadbus ? "" : ratiosFor(c, m.subject),
      ]);
      // Columns empty for every row (no spread in quick mode, no percentiles for throughput) are left out.
      const shown = header.map((_, i) => i < 2 || rows.some((r) => r[i] !== ""));
      const keep = <T>(cells: readonly T[]): T[] => cells.filter((_, i) => shown[i]);
      const widths = keep(header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length))));
      out.push(`  ${c.label}`);
      out.push(`    ${pad(keep(header), widths)}`.trimEnd());
      for (const row of rows) out.push(`    ${pad(keep(row), widths)}`.trimEnd());
      for (const s of c.skipped) out.push(`    - ${s.subject}: skipped: ${s.reason}`);
    }
  }
  out.push("", "Goals", ...results.goals.map(renderGoal));
  out.push(
    "",
    "* = threadbus. Ratios say how many times better threadbus is than the peer on that row (throughput",
    "  divided, or latency/cost inverted): above 1x threadbus is ahead, below 1x it is behind.",
  );
  return out.join("\n");
}

function renderGoal(goal: Goal): string {
  const mark = goal.met === null ? "n/a " : goal.met ? "met " : "MISS";
  return `  [${mark}] ${goal.description}: ${goal.actual}`;
}
