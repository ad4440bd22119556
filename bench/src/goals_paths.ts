import { formatValue } from "./format.js";
import type { Goal, ScenarioResult } from "./results_schema.js";
import { BUS_SUBSCRIBER, PATH_SUBSCRIPTIONS, pathCaseId } from "./scenarios/n_paths.js";

/** Judged on the callback consumer, which a per-entity server (one handler a connection) writes. */
const BUS = BUS_SUBSCRIBER;
const FEWEST = PATH_SUBSCRIPTIONS[0];
const MOST = PATH_SUBSCRIPTIONS[PATH_SUBSCRIPTIONS.length - 1]!;

function busRate(scenarios: readonly ScenarioResult[], subscriptions: number): number | undefined {
  const caseId = pathCaseId(subscriptions);
  for (const scenario of scenarios)
    for (const c of scenario.cases)
      if (c.id === caseId) return c.measurements.find((m) => m.subject === BUS)?.value;
  return undefined;
}

/** Issue 22's in-thread targets, judged on scenario n-paths. */
export function pathGoals(scenarios: readonly ScenarioResult[]): Goal[] {
  const most = busRate(scenarios, MOST);
  const fewest = busRate(scenarios, FEWEST);
  const rate = `(n) in-thread Bus, ${MOST.toLocaleString("en")} literal-path subscriptions on one (system, kind), a Subscriber callback each: >= 1 M events/s (issue 22)`;
  const flat = `(n) the same at ${MOST.toLocaleString("en")} subscriptions within 2x of the rate at ${FEWEST} (issue 22)`;
  const notRun = { met: null, actual: "not measured in this run" };
  return [
    most === undefined
      ? { id: "n-100k-rate", description: rate, ...notRun }
      : { id: "n-100k-rate", description: rate, met: most >= 1e6, actual: formatValue(most, "events/s") },
    most === undefined || fewest === undefined
      ? { id: "n-100k-flat", description: flat, ...notRun }
      : {
          id: "n-100k-flat",
          description: flat,
          met: most * 2 >= fewest,
          actual: `${formatValue(most, "events/s")} vs ${formatValue(fewest, "events/s")} (${(fewest / most).toFixed(2)}x slower)`,
        },
  ];
}
