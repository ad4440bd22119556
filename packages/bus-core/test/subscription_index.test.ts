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

/** Patterns heavy in `**` (adjacent or apart), to check the walk against the scan where it branches most. */
const starryPattern = fc
  .array(fc.oneof(segment, fc.constant("**"), fc.constant("**"), fc.constant("*"), fc.constant("(a|b)")), {
    minLength: 1,
    maxLength: 8,
  })
  .map((s) => s.join("."));
const longValue = fc.array(segment, { minLength: 0, maxLength: 12 }).map((s) => s.join("."));

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

  it("agrees with the scan on subscriptions with many `**`", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(starryPattern, fc.oneof(fc.constant(""), starryPattern)), { maxLength: 30 }),
        fc.array(fc.tuple(longValue, value), { maxLength: 20 }),
        (subs, events) => {
          const index = new SubscriptionIndex<number>();
          subs.forEach(([s, k], i) => {
            index.add(`sub.${i}`, s, k, i);
          });
          for (const [system, kind] of events) {
            expect(index.matchUncached(system, kind).map((e) => e.value)).toEqual(
              bruteForce(subs, system, kind),
            );
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

describe("SubscriptionIndex cost under `**`", () => {
  /** `**.a.**.a. ... .b`: `stars` times `**`, never matched by a system of `a`s only. */
  const starry = (stars: number, last = "b") => `${Array(stars).fill("**").join(".a.")}.${last}`;

  it("visits at most (trie nodes x (segments + 1)) pairs for a 30-segment system and 2/4/6/8 `**`", () => {
    const system = Array(30).fill("a").join(".");
    const visits: number[] = [];
    for (const stars of [2, 4, 6, 8]) {
      const index = new SubscriptionIndex<number>();
      index.add("sub.1", starry(stars), "", 1);
      index.add("sub.2", starry(stars, "a"), "", 2);
      const before = index.walkVisits;
      expect(index.matchUncached(system, "k").map((e) => e.value)).toEqual([2]);
      const spent = index.walkVisits - before;
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThanOrEqual(index.trieNodes * 31);
      visits.push(spent);
    }
    // Linear in the number of `**`: the recursive walk this replaced grew ~10x per two `**`
    // (0.2 / 2.7 / 11 / 143 ms measured for 2 / 4 / 6 / 8).
    expect(visits[3]!).toBeLessThan(visits[0]! * 8);
  });

  it("stays polynomial for systems of thousands of segments against many `**` subscriptions", () => {
    const index = new SubscriptionIndex<number>();
    for (let stars = 1; stars <= 16; stars++) {
      index.add(`sub.${stars}`, starry(stars), "", stars);
      if (stars < 16) index.add(`sub.a${stars}`, `**.(a|b).${starry(stars, "*")}`, "**", 100 + stars);
    }
    const system = Array(5000).fill("a").join(".");
    const before = index.walkVisits;
    const matched = index.matchUncached(system, "k").map((e) => e.value);
    expect(index.walkVisits - before).toBeLessThanOrEqual(index.trieNodes * 5001);
    expect(matched).toEqual(
      [...index.entries()]
        .filter((e) => e.system.match(system) && (e.kind === null || e.kind.match("k")))
        .map((e) => e.value),
    );
    expect(matched.length).toBe(15);
    expect(index.matchUncached(`${system}.b`, "k").length).toBe(31);
  });

  it("keeps a pattern's `**` after removing a longer pattern that shared its nodes", () => {
    const index = new SubscriptionIndex<number>();
    index.add("sub.1", "a.**", "", 1);
    index.add("sub.2", "a.**.b.**", "", 2);
    expect(index.match("a.x.b.y", "k").map((e) => e.value)).toEqual([1, 2]);
    index.remove("sub.2");
    expect(index.match("a.x.b.y", "k").map((e) => e.value)).toEqual([1]);
    expect(index.match("a", "k").map((e) => e.value)).toEqual([1]);
  });
});
