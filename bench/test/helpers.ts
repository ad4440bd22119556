import { judgeGoals } from "../src/goals.js";
import { Progress } from "../src/progress.js";
import type { Extra, Results, ScenarioResult } from "../src/results_schema.js";
import { CaseRecorder } from "../src/scenario.js";

/** A Progress that writes into an array instead of the terminal. */
export function silentProgress(lines: string[] = []): Progress {
  return new Progress({ write: (text: string) => lines.push(text) });
}

export function recorder(repeats = 3): CaseRecorder {
  return new CaseRecorder({ quick: repeats === 1, repeats, progress: silentProgress() });
}

/** A scenario result from fixed per-repeat values (no timing involved). */
export async function scenarioWith(
  id: string,
  caseId: string,
  subjects: {
    subject: string;
    threadbus: boolean;
    unit: "events/s" | "ns/op" | "µs" | "bytes";
    values: number[];
    group?: string;
    /** Per repeat, like values (latency subjects). */
    p50?: number[];
    p99?: number[];
    extra?: Extra[];
  }[],
  repeats = 3,
): Promise<ScenarioResult> {
  const rec = recorder(repeats);
  const target = rec.case(caseId, `${caseId} label`);
  for (const s of subjects) {
    await rec.subject(target, {
      subject: s.subject,
      threadbus: s.threadbus,
      unit: s.unit,
      ...(s.group ? { group: s.group } : {}),
      setup: () => s.values,
      repeat: (values, i) => ({
        value: values[i]!,
        ...(s.p50 ? { p50: s.p50[i]! } : {}),
        ...(s.p99 ? { p99: s.p99[i]! } : {}),
        ...(s.extra ? { extra: s.extra } : {}),
      }),
    });
  }
  return {
    id,
    title: `${id} title`,
    measures: `${id} measures`,
    status: "ok",
    durationMs: 1,
    cases: rec.finish(),
  };
}

export function resultsOf(scenarios: ScenarioResult[], quick = false): Results {
  return {
    schemaVersion: 1,
    date: "2026-11-25T06:00:00.000Z",
    quick,
    filter: null,
    node: "v20.20.0",
    machine: { platform: "linux", arch: "x64", cpuModel: "Test CPU", cpuCount: 2, totalMemoryBytes: 2 ** 33 },
    durationMs: 1000,
    scenarios,
    goals: judgeGoals(scenarios, { cpuCount: 2 }),
  };
}
