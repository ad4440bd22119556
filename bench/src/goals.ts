import { formatRatio } from "./format.js";
import type { CaseResult, Goal, ScenarioResult } from "./results_schema.js";

function findCase(scenarios: readonly ScenarioResult[], id: string): CaseResult | undefined {
  for (const scenario of scenarios) for (const c of scenario.cases) if (c.id === id) return c;
  return undefined;
}

function measuredValue(
  scenarios: readonly ScenarioResult[],
  caseId: string,
  subject: string,
): number | undefined {
  return findCase(scenarios, caseId)?.measurements.find((m) => m.subject === subject)?.value;
}

function ratioOf(scenarios: readonly ScenarioResult[], caseId: string, subject: string, peer: string) {
  return findCase(scenarios, caseId)?.ratios.find((r) => r.subject === subject && r.peer === peer)?.ratio;
}

const NOT_RUN = { met: null, actual: "not measured in this run" };

/** A ratio goal over one or more cases: met only if every case meets it. */
function ratioGoal(
  scenarios: readonly ScenarioResult[],
  id: string,
  description: string,
  cases: readonly string[],
  subject: string,
  peer: string,
  atLeast: number,
): Goal {
  const ratios = cases.map((c) => ratioOf(scenarios, c, subject, peer));
  if (ratios.some((r) => r === undefined)) return { id, description, ...NOT_RUN };
  const values = ratios as number[];
  return {
    id,
    description,
    met: values.every((r) => r >= atLeast),
    actual: values.map(formatRatio).join(" / "),
  };
}

function scalingGoal(scenarios: readonly ScenarioResult[], id: string, temperature: "warm" | "cold"): Goal {
  const subject =
    temperature === "warm"
      ? "threadbus SubscriptionIndex.match"
      : "threadbus SubscriptionIndex.matchUncached";
  const at10k = measuredValue(scenarios, `c-match-10k-${temperature}`, subject);
  const at100k = measuredValue(scenarios, `c-match-100k-${temperature}`, subject);
  const description = `(c) ${temperature} match cost at 100k subscriptions <= 2x the cost at 10k`;
  if (at10k === undefined || at100k === undefined) return { id, description, ...NOT_RUN };
  return {
    id,
    description,
    met: at100k <= 2 * at10k,
    actual: `${at100k.toFixed(0)} ns vs ${at10k.toFixed(0)} ns (${(at100k / at10k).toFixed(2)}x)`,
  };
}

/** The goals of issue 7, judged from this run's figures. */
export function judgeGoals(scenarios: readonly ScenarioResult[]): Goal[] {
  const warm100k = measuredValue(scenarios, "c-match-100k-warm", "threadbus SubscriptionIndex.match");
  const crossThread = ["d-cross-thread-64", "d-cross-thread-1024"];
  return [
    ratioGoal(
      scenarios,
      "b-vs-ee2",
      "(b) 1,000 wildcard subscriptions: at least 5x EventEmitter2 wildcard mode (callback Subscriber vs listeners)",
      ["b-wildcard"],
      "threadbus Subscriber (callback)",
      "EventEmitter2 (wildcard)",
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
    ratioGoal(
      scenarios,
      "d-vs-plain",
      "(d) cross-thread: at least 5x plain postMessage (64 B / 1 KiB)",
      crossThread,
      "threadbus WorkerBus",
      "postMessage, 1 event per message",
      5,
    ),
    ratioGoal(
      scenarios,
      "d-vs-batched",
      "(d) cross-thread: at least 1.5x hand-batched postMessage (64 B / 1 KiB)",
      crossThread,
      "threadbus WorkerBus",
      "postMessage, batches of 64",
      1.5,
    ),
    ratioGoal(
      scenarios,
      "k-vs-raw",
      "(k) one NATS hop, bus to bus: at least 0.8x raw nats.js pub/sub of the same events",
      ["k-nats"],
      "threadbus NatsBridge",
      "raw nats.js, 1 event per message",
      0.8,
    ),
  ];
}
