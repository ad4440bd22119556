import { formatValue } from "./format.js";
import type { Progress } from "./progress.js";
import {
  type CaseResult,
  type Extra,
  HIGHER_IS_BETTER,
  type Measurement,
  type Unit,
} from "./results_schema.js";
import { settle, summarise } from "./stats.js";

export interface RunOptions {
  /** The short CI version: smaller workloads, one repeat. */
  quick: boolean;
  /** Repeats per subject: 3 in a full run, 1 in quick mode. */
  repeats: number;
  progress: Progress;
}

/** What one repeat returns: the headline value, plus percentiles where they mean something. */
export interface Sample {
  value: number;
  p50?: number;
  p99?: number;
  p999?: number;
  /** Secondary figures (deliveries/s, a thread's CPU share); averaged by name over the repeats. */
  extra?: Extra[];
}

/** A subject that cannot run here (its package is missing, or not built yet). */
export class Unavailable extends Error {
  override readonly name = "Unavailable";
}

export interface Scenario {
  /** Short id, matched by the CLI filter ("a-dispatch"). */
  readonly id: string;
  readonly title: string;
  /** What is measured, printed beside the table and stored in the JSON. */
  readonly measures: string;
  /** Returns why the whole scenario cannot run, or null. */
  unavailable?(): Promise<string | null>;
  run(context: CaseRecorder): Promise<void>;
}

/**
 * Collects the cases of one scenario. Each subject is measured `repeats` times after a warm-up,
 * and the case gets the ratio of every threadbus subject to every peer in it.
 */
export class CaseRecorder {
  readonly options: RunOptions;
  readonly cases: CaseResult[] = [];

  constructor(options: RunOptions) {
    this.options = options;
  }

  get quick(): boolean {
    return this.options.quick;
  }

  /** Starts a case; measure subjects into it with `subject()`. */
  case(id: string, label: string): CaseResult {
    const result: CaseResult = { id, label, measurements: [], ratios: [], skipped: [] };
    this.cases.push(result);
    return result;
  }

  /**
   * Measures one subject: `setup` once, `warmup` once (if given), then `repeat` `repeats` times.
   * `setup` may throw Unavailable, which records the subject as skipped with its message.
   */
  async subject<S>(
    target: CaseResult,
    spec: {
      subject: string;
      threadbus: boolean;
      unit: Unit;
      /** Set when a case mixes kinds of subject: ratios are only taken within one group. */
      group?: string;
      note?: string;
      setup: () => Promise<S> | S;
      warmup?: (state: S) => Promise<unknown>;
      repeat: (state: S, index: number) => Promise<Sample> | Sample;
      teardown?: (state: S) => Promise<void> | void;
    },
  ): Promise<Measurement | null> {
    const { progress, repeats } = this.options;
    const label = `${target.id} · ${spec.subject}`;
    const started = performance.now();
    let state: S;
    try {
      state = await spec.setup();
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      target.skipped.push({ subject: spec.subject, reason: error.message });
      progress.done(label, `skipped: ${error.message}`, performance.now() - started);
      return null;
    }
    try {
      if (spec.warmup) {
        progress.running(label, "warm-up");
        await spec.warmup(state);
      }
      const samples: Sample[] = [];
      for (let i = 0; i < repeats; i++) {
        progress.running(label, `repeat ${i + 1}/${repeats}`);
        await settle(5);
        samples.push(await spec.repeat(state, i));
      }
      const values = samples.map((s) => s.value);
      const { mean, min, max, stddev } = summarise(values);
      const measurement: Measurement = {
        subject: spec.subject,
        threadbus: spec.threadbus,
        ...(spec.group ? { group: spec.group } : {}),
        unit: spec.unit,
        value: mean,
        samples: values,
        min,
        max,
        stddev,
        ...averaged(samples, "p50"),
        ...averaged(samples, "p99"),
        ...averaged(samples, "p999"),
        ...averagedExtras(samples),
        ...(spec.note ? { note: spec.note } : {}),
      };
      target.measurements.push(measurement);
      const spread = repeats > 1 ? ` (${formatValue(min, spec.unit)}–${formatValue(max, spec.unit)})` : "";
      progress.done(label, `${formatValue(mean, spec.unit)}${spread}`, performance.now() - started);
      return measurement;
    } finally {
      await spec.teardown?.(state);
    }
  }

  /** Records a subject that cannot run in this case. */
  skip(target: CaseResult, subject: string, reason: string): void {
    target.skipped.push({ subject, reason });
    this.options.progress.done(`${target.id} · ${subject}`, `skipped: ${reason}`, 0);
  }

  /** Fills in every case's ratios: each threadbus subject against each peer of the same case and group. */
  finish(): CaseResult[] {
    for (const target of this.cases) {
      target.ratios = [];
      const ours = target.measurements.filter((m) => m.threadbus);
      const peers = target.measurements.filter((m) => !m.threadbus);
      for (const subject of ours) {
        // Memory deltas hover around zero and change sign: a ratio of them means nothing.
        if (subject.unit === "bytes") continue;
        for (const peer of peers) {
          if (peer.group !== subject.group) continue;
          const ratio = HIGHER_IS_BETTER[subject.unit]
            ? subject.value / peer.value
            : peer.value / subject.value;
          if (Number.isFinite(ratio))
            target.ratios.push({ subject: subject.subject, peer: peer.subject, ratio });
        }
      }
    }
    return this.cases;
  }
}

function averaged(
  samples: readonly Sample[],
  key: "p50" | "p99" | "p999",
): Partial<Record<typeof key, number>> {
  const values = samples.map((s) => s[key]).filter((v): v is number => v !== undefined);
  if (values.length === 0) return {};
  return { [key]: values.reduce((a, b) => a + b, 0) / values.length };
}

/** Each secondary figure averaged over the repeats that reported it (a thread's CPU may be unknown in one). */
function averagedExtras(samples: readonly Sample[]): { extra?: Extra[] } {
  const byName = new Map<string, { unit: Extra["unit"]; values: number[] }>();
  for (const sample of samples) {
    for (const { name, value, unit } of sample.extra ?? []) {
      const entry = byName.get(name) ?? { unit, values: [] };
      entry.values.push(value);
      byName.set(name, entry);
    }
  }
  if (byName.size === 0) return {};
  return {
    extra: [...byName].map(([name, { unit, values }]) => ({
      name,
      unit,
      value: values.reduce((a, b) => a + b, 0) / values.length,
    })),
  };
}
