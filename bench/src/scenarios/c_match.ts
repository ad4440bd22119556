import { type IndexEntry, SubscriptionIndex } from "@threadbus/core";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { nowNs } from "../stats.js";

const KINDS = ["created", "updated", "deleted"] as const;

/**
 * A population shaped like a multi-tenant backend: per tenant, 70% exact filters, 20% `tenant.*`,
 * 10% `tenant.**` with an alternation on the kind; plus 10 global wildcards every lookup meets.
 * Each lookup matches a handful of entries whatever the size, so the cost measured is the index's.
 */
function populate(size: number): SubscriptionIndex<number> {
  const index = new SubscriptionIndex<number>();
  const globals: [string, string][] = [
    ["**", ""],
    ["**", ""],
    ["*.orders", "*"],
    ["*.orders", "*"],
    ["*.orders", "created"],
    ["*.orders", "created"],
    ["*.*", "created"],
    ["*.*", "created"],
    ["*.*", "(created|updated)"],
    ["**", "deleted"],
  ];
  let id = 0;
  for (const [system, kind] of globals) index.add(`g${id++}`, system, kind, id);
  for (let i = 0; id < size; i++) {
    const tenant = `tenant${i}`;
    const slot = i % 10;
    if (slot < 7) index.add(`s${id++}`, `${tenant}.orders`, KINDS[i % 3], id);
    else if (slot < 9) index.add(`s${id++}`, `${tenant}.*`, "", id);
    else index.add(`s${id++}`, `${tenant}.**`, "(created|updated)", id);
  }
  return index;
}

/** 1,024 distinct (system, kind) keys over the whole tenant range: fits the default 4,096-entry cache. */
function lookupKeys(size: number): { systems: string[]; kinds: string[] } {
  const systems: string[] = [];
  const kinds: string[] = [];
  let state = 12345;
  for (let i = 0; i < 1024; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    systems.push(`tenant${state % size}.orders`);
    kinds.push(KINDS[i % 3]!);
  }
  return { systems, kinds };
}

type Lookup = (system: string, kind: string) => readonly IndexEntry<number>[];

/** Times `lookups` calls over the key set; returns ns per lookup. The sink keeps the calls alive. */
function timeLookups(lookup: Lookup, keys: { systems: string[]; kinds: string[] }, lookups: number): number {
  let sink = 0;
  const started = nowNs();
  for (let i = 0; i < lookups; i++) {
    const at = i & 1023;
    sink += lookup(keys.systems[at]!, keys.kinds[at]!).length;
  }
  const elapsed = nowNs() - started;
  if (sink === 0) throw new Error("lookups matched nothing: the population is wrong");
  return elapsed / lookups;
}

/** The baseline without an index: test every compiled filter. */
function linearScan(index: SubscriptionIndex<number>): Lookup {
  const entries = [...index.entries()];
  return (system, kind) => {
    const out: IndexEntry<number>[] = [];
    for (const entry of entries) {
      if (entry.system.match(system) && (entry.kind === null || entry.kind.match(kind))) out.push(entry);
    }
    return out;
  };
}

export const matchScenario: Scenario = {
  id: "c-match",
  title: "subscription index match cost at 1k / 10k / 100k subscriptions",
  measures:
    "Nanoseconds per SubscriptionIndex lookup of (system, kind) over 1,024 distinct keys, each matching a few entries. Warm: match(), served from the result cache after the first pass. Cold: matchUncached(), the trie walk every time. Peer: a linear scan testing every compiled filter (what an index-less bus does).",
  async run(recorder: CaseRecorder) {
    const sizes = [1_000, 10_000, 100_000];
    const scale = recorder.quick ? 0.1 : 1;
    for (const size of sizes) {
      const index = populate(size);
      const keys = lookupKeys(size);
      const label = `${size / 1000}k`;
      const warm = recorder.case(`c-match-${label}-warm`, `${label} subscriptions, warm (cached)`);
      await recorder.subject(warm, {
        subject: "threadbus SubscriptionIndex.match",
        threadbus: true,
        unit: "ns/op",
        setup: () => (system: string, kind: string) => index.match(system, kind),
        warmup: async (lookup) => void timeLookups(lookup, keys, 200_000),
        repeat: (lookup) => ({ value: timeLookups(lookup, keys, 5_000_000 * scale) }),
      });
      const cold = recorder.case(`c-match-${label}-cold`, `${label} subscriptions, cold (uncached)`);
      await recorder.subject(cold, {
        subject: "threadbus SubscriptionIndex.matchUncached",
        threadbus: true,
        unit: "ns/op",
        setup: () => (system: string, kind: string) => index.matchUncached(system, kind),
        warmup: async (lookup) => void timeLookups(lookup, keys, 50_000),
        repeat: (lookup) => ({ value: timeLookups(lookup, keys, 1_000_000 * scale) }),
      });
      await recorder.subject(cold, {
        subject: "linear scan of compiled filters",
        threadbus: false,
        unit: "ns/op",
        setup: () => linearScan(index),
        warmup: async (lookup) => void timeLookups(lookup, keys, Math.max(20, 2_000_000 / size)),
        // About 0.1 s per repeat whatever the size: the scan costs ~size x 10 ns.
        repeat: (lookup) => ({ value: timeLookups(lookup, keys, Math.max(20, (10_000_000 * scale) / size)) }),
      });
    }
  },
};
