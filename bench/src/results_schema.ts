import { z } from "zod";

/**
 * The shape of a results file (bench/results/<date>.json). The CLI writes it, `bench:check`
 * validates it, `bench:readme` reads it: one schema, so the three cannot drift apart.
 */

/** What one number is: its unit says whether more is better. */
export const unitSchema = z.enum(["events/s", "ns/op", "µs", "bytes"]);
export type Unit = z.infer<typeof unitSchema>;

export const HIGHER_IS_BETTER: Record<Unit, boolean> = {
  "events/s": true,
  "ns/op": false,
  µs: false,
  bytes: false,
};

const finite = z.number().refine(Number.isFinite, "must be a finite number");

/** Units of the secondary figures a measurement may carry beside its headline. */
export const extraUnitSchema = z.enum(["events/s", "% of a core", "bytes"]);
export type ExtraUnit = z.infer<typeof extraUnitSchema>;

/**
 * A secondary figure of one subject, averaged over repeats like the headline: deliveries/s beside
 * events in/s (j-scale), or the CPU share of the thread between publisher and subscriber (f-latency).
 * Never used for ratios.
 */
export const extraSchema = z.object({
  name: z.string().min(1),
  value: finite,
  unit: extraUnitSchema,
});
export type Extra = z.infer<typeof extraSchema>;

export const measurementSchema = z.object({
  /** Who was measured: "threadbus Bus", "EventEmitter2 (wildcard)", ... */
  subject: z.string().min(1),
  threadbus: z.boolean(),
  /** Ratios are taken only between subjects of the same group ("in-thread" vs "cross-thread"). */
  group: z.string().optional(),
  unit: unitSchema,
  /** The headline: mean over repeats (for latency, the p50 averaged over repeats). */
  value: finite,
  /** One headline value per repeat. */
  samples: z.array(finite).min(1),
  min: finite,
  max: finite,
  stddev: finite,
  p50: finite.optional(),
  p99: finite.optional(),
  p999: finite.optional(),
  /** Secondary figures, each averaged over the repeats that reported it. */
  extra: z.array(extraSchema).optional(),
  note: z.string().optional(),
});
export type Measurement = z.infer<typeof measurementSchema>;

export const ratioSchema = z.object({
  subject: z.string(),
  peer: z.string(),
  /** How many times better the threadbus subject is than the peer (> 1: ahead, < 1: behind). */
  ratio: finite,
});
export type Ratio = z.infer<typeof ratioSchema>;

export const caseSchema = z.object({
  id: z.string().min(1),
  label: z.string().min(1),
  measurements: z.array(measurementSchema),
  ratios: z.array(ratioSchema),
  /** Subjects that could not run in this case, with the reason. */
  skipped: z.array(z.object({ subject: z.string(), reason: z.string() })),
});
export type CaseResult = z.infer<typeof caseSchema>;

export const scenarioSchema = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  /** What the numbers mean, in one or two sentences: printed with the table. */
  measures: z.string().min(1),
  status: z.enum(["ok", "skipped", "failed"]),
  reason: z.string().optional(),
  durationMs: finite,
  cases: z.array(caseSchema),
});
export type ScenarioResult = z.infer<typeof scenarioSchema>;

export const goalSchema = z.object({
  id: z.string(),
  description: z.string(),
  /** null when the scenarios it needs did not run. */
  met: z.boolean().nullable(),
  actual: z.string(),
});
export type Goal = z.infer<typeof goalSchema>;

export const resultsSchema = z.object({
  schemaVersion: z.literal(1),
  /** ISO timestamp of the start of the run. */
  date: z.iso.datetime(),
  quick: z.boolean(),
  filter: z.string().nullable(),
  node: z.string().min(1),
  machine: z.object({
    platform: z.string(),
    arch: z.string(),
    cpuModel: z.string(),
    cpuCount: z.number().int().positive(),
    totalMemoryBytes: z.number().int().positive(),
  }),
  durationMs: finite,
  scenarios: z.array(scenarioSchema),
  goals: z.array(goalSchema),
});
export type Results = z.infer<typeof resultsSchema>;
