import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePattern, SubscriptionIndex } from "../src/index.js";

const segment = fc.constantFrom("a", "b", "c", "d");
const patternSegment = fc.oneof(segment, segment, fc.constant("*"), fc.constant("**"), fc.constant("(a|b)"));
const pattern = fc.array(patternSegment, { minLength: 1, maxLength: 4 }).map((s) => s.join("."));
const kindPattern = fc.oneof(fc.constant(""), pattern);
const value = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join("."));

function bruteForce(subs: Array<[string, string]>, system: string, kind: string): number[] {
  const out: number[] = [];
  subs.forEach(([s, k], i) => {
    if (compilePattern(s).match(system) && (k === "" || compilePattern(k).match(kind))) out.push(i);
  });
  return out;
}

describe("SubscriptionIndex", () => {
  it("returns exactly what a scan of every subscription would, in subscription order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(pattern, kindPattern), { maxLength: 40 }),
        fc.array(fc.tuple(value, value), { maxLength: 20 }),
        (subs, events) => {
          const index = new SubscriptionIndex<number>();
          subs.forEach(([s, k], i) => {
            index.add(`sub.${i}`, s, k, i);
          });
          for (const [system, kind] of events) {
            const expected = bruteForce(subs, system, kind);
            expect(index.match(system, kind).map((e) => e.value)).toEqual(expected);
            expect(index.match(system, kind).map((e) => e.value)).toEqual(expected); // cached
            expect(index.matchUncached(system, kind).map((e) => e.value)).toEqual(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("invalidates cached results on every add and remove", () => {
    const index = new SubscriptionIndex<string>();
    expect(index.match("a", "k")).toEqual([]);
    index.add("sub.1", "a", "", "one");
    expect(index.match("a", "k").map((e) => e.value)).toEqual(["one"]);
    const generation = index.generation;
    index.add("sub.2", "*", "k", "two");
    expect(index.generation).toBeGreaterThan(generation);
    expect(index.match("a", "k").map((e) => e.value)).toEqual(["one", "two"]);
    index.remove("sub.1");
    expect(index.match("a", "k").map((e) => e.value)).toEqual(["two"]);
    expect(index.remove("sub.1")).toBeUndefined();
  });

  it("keeps the result cache bounded whatever the event stream", () => {
    const index = new SubscriptionIndex<number>({ cacheSize: 64 });
    index.add("sub.1", "**", "", 1);
    for (let i = 0; i < 10_000; i++) index.match(`sys${i}`, `kind${i}`);
    expect(index.cacheEntries).toBeLessThanOrEqual(64);
  });

  it("prunes trie nodes of removed wildcard patterns so churn does not grow memory", () => {
    const index = new SubscriptionIndex<number>();
    const baseline = index.trieNodes;
    for (let i = 0; i < 1000; i++) {
      index.add(`sub.${i}`, `svc${i}.*.(x|y).**`, "k.*", i);
      index.remove(`sub.${i}`);
    }
    expect(index.trieNodes).toBe(baseline);
    expect(index.size).toBe(0);
  });

  it("dedupes an entry reachable through two trie paths", () => {
    const index = new SubscriptionIndex<number>();
    index.add("sub.1", "**.**", "", 1);
    index.add("sub.2", "a.**.**", "", 2);
    expect(index.match("a.b.c", "k").map((e) => e.value)).toEqual([1, 2]);
  });

  it("keeps a path filter on the entry for the caller to apply", () => {
    const index = new SubscriptionIndex<number>();
    index.add("sub.1", "fs", "", 1, "logs/**/*.txt");
    const [entry] = index.match("fs", "write");
    expect(entry!.path!.match("logs/2026/a.txt")).toBe(true);
    expect(entry!.path!.match("logs/a.png")).toBe(false);
  });

  it("never matches a subscription with the empty system pattern", () => {
    const index = new SubscriptionIndex<number>();
    index.add("sub.1", "", "", 1);
    expect(index.match("", "")).toEqual([]);
    expect(index.match("a", "b")).toEqual([]);
    expect(index.remove("sub.1")?.value).toBe(1);
  });
});
