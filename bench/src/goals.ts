import { formatBytes, formatRatio, formatValue } from "./format.js";
import { pathGoals } from "./goals_paths.js";
import type { CaseResult, Goal, Measurement, Results, ScenarioResult } from "./results_schema.js";

/** The machine facts a goal may depend on (j-scale is judged only with enough cores). */
export type GoalMachine = Pick<Results["machine"], "cpuCount">;

/** The j-scale goals speak of a 16-core machine: with fewer cores the shapes are oversubscribed. */
export const SCALE_GOAL_CORES = 16;
const MAX_HEAP_GROWTH = 5_000_000;

function findCase(scenarios: readonly ScenarioResult[], id: string): CaseResult | undefined {
  for (const scenario of scenarios) for (const c of scenario.cases) if (c.id === id) return c;
  return undefined;
}

function measurement(
  scenarios: readonly ScenarioResult[],
  caseId: string,
  subject: string,
): Measurement | undefined {
  return findCase(scenarios, caseId)?.measurements.find((m) => m.subject === subject);
}

function ratioOf(scenarios: readonly ScenarioResult[], caseId: string, subject: string, peer: string) {
  return findCase(scenarios, caseId)?.ratios.find((r) => r.subject === subject && r.peer === peer)?.ratio;
}

const NOT_RUN = { met: null, actual: "not measured in this run" };

/** One (case, subject, peer) ratio a goal is judged on; `label` names it in the goal's figures. */
interface RatioPoint {
  caseId: string;
  subject: string;
  peer: string;
  label?: string;
}

/** A ratio goal over one or more points: met only if every point meets it. */
function ratioGoal(
  scenarios: readonly ScenarioResult[],
  id: string,
  description: string,
  points: readonly RatioPoint[],
  atLeast: number,
): Goal {
  const ratios = points.map((p) => ratioOf(scenarios, p.caseId, p.subject, p.peer));
  if (ratios.some((r) => r === undefined)) return { id, description, ...NOT_RUN };
  const values = ratios as number[];
  return {
    id,
    description,
    met: values.every((r) => r >= atLeast),
    actual: values
      .map((r, i) => (points[i]!.label ? `${formatRatio(r)} (${points[i]!.label})` : formatRatio(r)))
      .join(" / "),
  };
}

function scalingGoal(scenarios: readonly ScenarioResult[], id: string, temperature: "warm" | "cold"): Goal {
  const subject =
    temperature === "warm"
      ? "threadbus SubscriptionIndex.match"
      : "threadbus SubscriptionIndex.matchUncached";
  const at10k = measurement(scenarios, `c-match-10k-${temperature}`, subject)?.value;
  const at100k = measurement(scenarios, `c-match-100k-${temperature}`, subject)?.value;
  const description = `(c) ${temperature} match cost at 100k subscriptions <= 2x the cost at 10k`;
  if (at10k === undefined || at100k === undefined) return { id, description, ...NOT_RUN };
  return {
    id,
    description,
    met: at100k <= 2 * at10k,
    actual: `${at100k.toFixed(0)} ns vs ${at10k.toFixed(0)} ns (${(at100k / at10k).toFixed(2)}x)`,
  };
}

// Subject names of d-cross-thread, which measures every subject with two consumers.
const WORKER_BUS = "threadbus WorkerBus";
const BATCHED = "postMessage, batches of 64";
const PLAIN = "postMessage, 1 event per message";
const IGNORES = "ignores data";
const READS = "reads data";
const CATALOGUED = `${WORKER_BUS} catalogued`;
const crossThread = (
  caseId: string,
  peer: string,
  consumer: string,
  label?: string,
  bus = WORKER_BUS,
): RatioPoint => ({
  caseId,
  subject: `${bus}, ${consumer}`,
  peer: `${peer}, ${consumer}`,
  ...(label ? { label } : {}),
});

function crossThreadGoals(scenarios: readonly ScenarioResult[]): Goal[] {
  return [
    ratioGoal(
      scenarios,
      "d-64-ignores",
      "(d) main -> main, 64 B object, consumer ignores data: >= 1.5x hand-batched postMessage (issue 12, 2 cores)",
      [crossThread("d-cross-thread-64", BATCHED, IGNORES)],
      1.5,
    ),
    ratioGoal(
      scenarios,
      "d-64-reads",
      "(d) main -> main, 64 B object, consumer reads data: >= 1.0x hand-batched postMessage (issue 12, 2 cores)",
      [crossThread("d-cross-thread-64", BATCHED, READS)],
      1.0,
    ),
    ratioGoal(
      scenarios,
      "d-string",
      "(d) main -> main, 64 B string data: >= 2.5x hand-batched postMessage, with either consumer (issue 12, 2 cores)",
      [
        crossThread("d-cross-thread-64-string", BATCHED, IGNORES, IGNORES),
        crossThread("d-cross-thread-64-string", BATCHED, READS, READS),
      ],
      2.5,
    ),
    ratioGoal(
      scenarios,
      "d-vs-plain",
      "(d) main -> main, consumer ignores data: >= 5x plain postMessage (64 B / 1 KiB object; issue 7)",
      [crossThread("d-cross-thread-64", PLAIN, IGNORES), crossThread("d-cross-thread-1024", PLAIN, IGNORES)],
      5,
    ),
    ratioGoal(
      scenarios,
      "d-1k-vs-batched",
      "(d) main -> main, 1 KiB object, consumer ignores data: >= 1.5x hand-batched postMessage (issue 7)",
      [crossThread("d-cross-thread-1024", BATCHED, IGNORES)],
      1.5,
    ),
    ratioGoal(
      scenarios,
      "d-64-catalogued",
      "(d) main -> main, catalogued 64 B object, consumer reads data: >= 2.5x hand-batched postMessage (issue 18, 2 cores)",
      [crossThread("d-cross-thread-64", BATCHED, READS, undefined, CATALOGUED)],
      2.5,
    ),
    ratioGoal(
      scenarios,
      "d-1k-catalogued",
      "(d) main -> main, catalogued 1 KiB object, consumer reads data: >= 1.5x hand-batched postMessage (issue 18, 2 cores)",
      [crossThread("d-cross-thread-1024", BATCHED, READS, undefined, CATALOGUED)],
      1.5,
    ),
  ];
}

/** Judged only on a machine with enough cores; elsewhere the figure is reported and `met` is null. */
function onEnoughCores(goal: Goal, machine: GoalMachine): Goal {
  if (goal.met === null || machine.cpuCount >= SCALE_GOAL_CORES) return goal;
  return {
    ...goal,
    met: null,
    actual: `${goal.actual} on ${machine.cpuCount} cores (judged only on ${SCALE_GOAL_CORES} or more)`,
  };
}

/** The j goals of one bus subject: issue 12's for the generic bus, issue 18's for the catalogued one. */
function scaleGoals(scenarios: readonly ScenarioResult[], machine: GoalMachine): Goal[] {
  return [
    ...scaleGoalsOf(scenarios, machine, "threadbus WorkerBus + attach()", "", "issue 12"),
    ...scaleGoalsOf(
      scenarios,
      machine,
      "threadbus WorkerBus catalogued + attach()",
      "-catalogued",
      "issue 18, catalogued",
    ),
  ];
}

function scaleGoalsOf(
  scenarios: readonly ScenarioResult[],
  machine: GoalMachine,
  bus: string,
  suffix: string,
  issue: string,
): Goal[] {
  const fourByFour = ratioGoal(
    scenarios,
    `j-4x4${suffix}`,
    `(j) 4 publisher x 4 subscriber workers: >= 2x the fan-out written by hand (${issue}, ${SCALE_GOAL_CORES} cores)`,
    [{ caseId: "j-scale-4x4", subject: bus, peer: "postMessage fan-out by hand, batches of 64" }],
    2,
  );
  const description = `(j) events in through the WorkerBus, best shape: >= 3 M events/s (${issue}, ${SCALE_GOAL_CORES} cores)`;
  const shapes = scenarios
    .flatMap((s) => s.cases)
    .filter((c) => c.id.startsWith("j-scale-"))
    .map((c) => ({
      shape: c.id.slice("j-scale-".length),
      value: c.measurements.find((m) => m.subject === bus)?.value,
    }))
    .filter((s): s is { shape: string; value: number } => s.value !== undefined);
  const best = shapes.reduce<{ shape: string; value: number } | null>(
    (a, b) => (a === null || b.value > a.value ? b : a),
    null,
  );
  const id = `j-3m${suffix}`;
  const eventsIn: Goal =
    best === null
      ? { id, description, ...NOT_RUN }
      : {
          id,
          description,
          met: best.value >= 3e6,
          actual: `${formatValue(best.value, "events/s")} (${best.shape})`,
        };
  return [onEnoughCores(fourByFour, machine), onEnoughCores(eventsIn, machine)];
}

function latencyGoals(scenarios: readonly ScenarioResult[]): Goal[] {
  const caseId = "f-latency-10k";
  const bus = measurement(scenarios, caseId, WORKER_BUS);
  const plain = measurement(scenarios, caseId, PLAIN);
  const p99 =
    "(f) at 10k events/s: WorkerBus p99 no worse than plain postMessage's in the same run (issue 12)";
  const p50 = "(f) at 10k events/s: WorkerBus p50 <= 20 µs (issue 12)";
  const cpu = "(f) at 10k events/s: dispatcher CPU <= 15% of a core (issue 12)";
  const dispatcherCpu = bus?.extra?.find((e) => e.name === "dispatcher CPU")?.value;
  return [
    bus?.p99 === undefined || plain?.p99 === undefined
      ? { id: "f-p99", description: p99, ...NOT_RUN }
      : {
          id: "f-p99",
          description: p99,
          met: bus.p99 <= plain.p99,
          actual: `${formatValue(bus.p99, "µs")} vs ${formatValue(plain.p99, "µs")}`,
        },
    bus?.p50 === undefined
      ? { id: "f-p50", description: p50, ...NOT_RUN }
      : { id: "f-p50", description: p50, met: bus.p50 <= 20, actual: formatValue(bus.p50, "µs") },
    bus === undefined
      ? { id: "f-cpu", description: cpu, ...NOT_RUN }
      : dispatcherCpu === undefined
        ? { id: "f-cpu", description: cpu, met: null, actual: "the dispatcher's CPU time was not reported" }
        : {
            id: "f-cpu",
            description: cpu,
            met: dispatcherCpu <= 15,
            actual: `${dispatcherCpu.toFixed(1)}% of a core`,
          },
  ];
}

function memoryGoal(scenarios: readonly ScenarioResult[]): Goal {
  const description = "(g) heap growth < 5 MB over 10M events, Bus and WorkerBus, worst repeat (issue 12)";
  const measured = ["g-memory", "g-memory-worker-bus"].flatMap((caseId) => {
    const c = findCase(scenarios, caseId);
    return (c?.measurements ?? []).filter((m) => m.threadbus).map((m) => ({ m, label: c!.label }));
  });
  if (measured.length === 0) return { id: "g-heap", description, ...NOT_RUN };
  return {
    id: "g-heap",
    description,
    met: measured.every(({ m }) => m.max < MAX_HEAP_GROWTH),
    actual: measured
      .map(({ m, label }) => `${m.subject.replace(/^threadbus /, "")} ${formatBytes(m.max)} (${label})`)
      .join(", "),
  };
}

/** Issue 18: send() of a catalogued small object with room in the ring, in ns on the publishing thread. */
function sendCostGoal(scenarios: readonly ScenarioResult[]): Goal {
  const id = "s-send-catalogued";
  const description = "(s) send() of a catalogued 64 B object with room in the ring: < 250 ns (issue 18)";
  const value = measurement(scenarios, "s-send-cost-64", "threadbus WorkerBus catalogued send()")?.value;
  if (value === undefined) return { id, description, ...NOT_RUN };
  return { id, description, met: value < 250, actual: `${value.toFixed(0)} ns` };
}

/** The goals of issues 7, 12 and 22, judged from this run's figures on this machine. */
export function judgeGoals(scenarios: readonly ScenarioResult[], machine: GoalMachine): Goal[] {
  const warm100k = measurement(scenarios, "c-match-100k-warm", "threadbus SubscriptionIndex.match")?.value;
  return [
    ratioGoal(
      scenarios,
      "b-vs-ee2",
      "(b) 1,000 wildcard subscriptions: at least 5x EventEmitter2 wildcard mode (callback Subscriber vs listeners)",
      [
        {
          caseId: "b-wildcard",
          subject: "threadbus Subscriber (callback)",
          peer: "EventEmitter2 (wildcard)",
        },
      ],
      5,
    ),
    warm100k === undefined
      ? { id: "c-warm-100k", description: "(c) warm match under 100 ns at 100k subscriptions", ...NOT_RUN }
      : {
          id: "c-warm-100k",
          description: "(c) warm match under 100 ns at 100k subscriptions",
          met: warm100k < 100,
          actual: `${warm100k.toFixed(0)} ns`,
        },
    scalingGoal(scenarios, "c-warm-scaling", "warm"),
    scalingGoal(scenarios, "c-cold-scaling", "cold"),
    ...crossThreadGoals(scenarios),
    ...scaleGoals(scenarios, machine),
    ...latencyGoals(scenarios),
    memoryGoal(scenarios),
    sendCostGoal(scenarios),
    ratioGoal(
      scenarios,
      "k-vs-raw",
      "(k) one NATS hop, bus to bus: at least 0.8x raw nats.js pub/sub of the same events",
      [{ caseId: "k-nats", subject: "threadbus NatsBridge", peer: "raw nats.js, 1 event per message" }],
      0.8,
    ),
    ...pathGoals(scenarios),
  ];
}
