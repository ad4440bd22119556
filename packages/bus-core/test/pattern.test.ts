import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compilePattern,
  InvalidPatternError,
  MAX_PATTERN_LENGTH,
  MAX_PATTERN_SEGMENTS,
} from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
/**
 * The project's own copy of the design's conformance vectors (kept in the repository: a user's
 * clone has nothing beside it); THREADBUS_CONFORMANCE points at another copy to check it too.
 */
const vectorsPath = process.env.THREADBUS_CONFORMANCE ?? resolve(here, "conformance/wildcard.json");
const vectors = JSON.parse(readFileSync(vectorsPath, "utf8")) as {
  cases: { pattern: string; value: string; match: boolean }[];
  invalid: string[];
};

/**
 * A deliberately naive reference: recursion over segments, straight from the rules in design.md
 * (memoised on (i, j) only so that patterns with many `**` finish).
 */
function reference(pattern: string, value: string): boolean {
  if (pattern === "") return false;
  const p = pattern.split(".");
  const v = value === "" ? [] : value.split(".");
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (v.length + 1) + j;
    let result = memo.get(key);
    if (result === undefined) {
      result = step(i, j);
      memo.set(key, result);
    }
    return result;
  };
  const step = (i: number, j: number): boolean => {
    if (i === p.length) return j === v.length;
    const seg = p[i]!;
    if (seg === "**") return go(i + 1, j) || (j < v.length && go(i, j + 1));
    if (j === v.length) return false;
    if (seg === "*") return go(i + 1, j + 1);
    if (seg.startsWith("(") && seg.endsWith(")"))
      return seg.slice(1, -1).split("|").includes(v[j]!) && go(i + 1, j + 1);
    return seg === v[j] && go(i + 1, j + 1);
  };
  return go(0, 0);
}

describe("pattern conformance (test/conformance/wildcard.json)", () => {
  it("has vectors to run", () => {
    expect(vectors.cases.length).toBeGreaterThan(30);
    expect(vectors.invalid.length).toBeGreaterThan(0);
  });

  for (const { pattern, value, match } of vectors.cases) {
    it(`'${pattern}' ${match ? "matches" : "does not match"} '${value}'`, () => {
      expect(compilePattern(pattern).match(value)).toBe(match);
      expect(reference(pattern, value)).toBe(match);
    });
  }

  for (const pattern of vectors.invalid) {
    it(`'${pattern}' is rejected with INVALID_PATTERN`, () => {
      let caught: unknown;
      try {
        compilePattern(pattern);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidPatternError);
      expect(caught).toMatchObject({ code: "INVALID_PATTERN", pattern });
    });
  }
});

describe("pattern properties", () => {
  const segment = fc.constantFrom("a", "b", "c", "state", "x");
  const patternSegment = fc.oneof(
    segment,
    fc.constant("*"),
    fc.constant("**"),
    fc.constant("(a|b)"),
    fc.constant("(c|x|state)"),
  );
  const pattern = fc.array(patternSegment, { minLength: 1, maxLength: 6 }).map((s) => s.join("."));
  const value = fc.array(segment, { minLength: 0, maxLength: 7 }).map((s) => s.join("."));

  it("agrees with the reference matcher on random patterns and values", () => {
    fc.assert(
      fc.property(pattern, value, (p, v) => compilePattern(p).match(v) === reference(p, v)),
      { numRuns: 5000 },
    );
  });

  it("agrees with the reference on patterns with many `**`, adjacent or apart", () => {
    const starry = fc
      .array(fc.oneof(patternSegment, fc.constant("**"), fc.constant("**")), { minLength: 1, maxLength: 12 })
      .map((s) => s.join("."));
    const long = fc.array(segment, { minLength: 0, maxLength: 16 }).map((s) => s.join("."));
    fc.assert(
      fc.property(starry, long, (p, v) => compilePattern(p).match(v) === reference(p, v)),
      { numRuns: 5000 },
    );
  });

  it("a literal pattern matches exactly itself", () => {
    fc.assert(fc.property(value, value, (p, v) => p === "" || compilePattern(p).match(v) === (p === v)));
  });

  it("matchSegments agrees with match", () => {
    fc.assert(
      fc.property(pattern, value, (p, v) => {
        const compiled = compilePattern(p);
        return compiled.matchSegments(v === "" ? [] : v.split(".")) === compiled.match(v);
      }),
    );
  });

  it("rejects parentheses that do not enclose a whole segment, and empty options", () => {
    for (const bad of ["x(a|b)", "(a|b)x", "((a|b))", "(a|)", "()", "a.)", "(a.b)"]) {
      expect(() => compilePattern(bad), bad).toThrow(InvalidPatternError);
    }
    expect(compilePattern("(a)").match("a")).toBe(true);
  });
});

describe("pattern limits and cost", () => {
  function refusal(pattern: string): unknown {
    try {
      compilePattern(pattern);
    } catch (error) {
      return error;
    }
    return undefined;
  }

  it("compiles adjacent `**` as one: a.**.**.b is a.**.b", () => {
    const collapsed = compilePattern("a.**.**.**.b");
    expect(collapsed.segments).toEqual(compilePattern("a.**.b").segments);
    expect(collapsed.source).toBe("a.**.**.**.b");
    expect(compilePattern("**.**").segments).toEqual([{ type: "any" }]);
    for (const value of ["a.b", "a.x.b", "a.x.y.z.b", "a", "b", "a.b.c"]) {
      expect(collapsed.match(value), value).toBe(reference("a.**.**.**.b", value));
    }
  });

  it(`refuses a pattern over ${MAX_PATTERN_LENGTH} characters with INVALID_PATTERN, accepts one at the limit`, () => {
    const atLimit = "x".repeat(MAX_PATTERN_LENGTH);
    expect(compilePattern(atLimit).match(atLimit)).toBe(true);
    const tooLong = "x".repeat(MAX_PATTERN_LENGTH + 1);
    const error = refusal(tooLong);
    expect(error).toBeInstanceOf(InvalidPatternError);
    expect(error).toMatchObject({ code: "INVALID_PATTERN", pattern: tooLong });
    expect((error as Error).message.length).toBeLessThan(200);
    expect(refusal("a".repeat(10_000_000))).toMatchObject({ code: "INVALID_PATTERN" });
  });

  it(`refuses a pattern over ${MAX_PATTERN_SEGMENTS} segments with INVALID_PATTERN, accepts one at the limit`, () => {
    const atLimit = Array(MAX_PATTERN_SEGMENTS).fill("*").join(".");
    expect(compilePattern(atLimit).match(Array(MAX_PATTERN_SEGMENTS).fill("v").join("."))).toBe(true);
    expect(refusal(`${atLimit}.*`)).toMatchObject({ code: "INVALID_PATTERN" });
    // Counted as written: 33 `**` are refused even though they would collapse to one.
    expect(
      refusal(
        Array(MAX_PATTERN_SEGMENTS + 1)
          .fill("**")
          .join("."),
      ),
    ).toMatchObject({
      code: "INVALID_PATTERN",
    });
  });

  it("refuses non-strings with INVALID_PATTERN", () => {
    for (const bad of [undefined, null, 42, Number.NaN, {}, ["a"], Symbol("s")]) {
      expect(refusal(bad as never), String(bad)).toMatchObject({ code: "INVALID_PATTERN" });
    }
  });

  it("stays polynomial: 16 `**` against values of 20,000 segments", () => {
    // The walk is O(pattern segments x value segments); a matcher that tried every split of every
    // `**` would not finish this before the test's timeout (C(20000, 16) splits).
    const pattern = `${Array(16).fill("**").join(".a.")}.b`;
    expect(pattern.split(".").length).toBeLessThanOrEqual(MAX_PATTERN_SEGMENTS);
    const compiled = compilePattern(pattern);
    const noMatch = Array(20_000).fill("a").join(".");
    const match = `${noMatch}.b`;
    expect(compiled.match(noMatch)).toBe(false);
    expect(compiled.match(match)).toBe(true);
    expect(compiled.match(`${Array(20_000).fill("x").join(".")}.b`)).toBe(false);
  });
});
