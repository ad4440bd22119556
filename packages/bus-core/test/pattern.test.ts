import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePattern, InvalidPatternError } from "../src/index.js";

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

/** A deliberately naive reference: recursion over segments, straight from the rules in design.md. */
function reference(pattern: string, value: string): boolean {
  if (pattern === "") return false;
  const p = pattern.split(".");
  const v = value === "" ? [] : value.split(".");
  const go = (i: number, j: number): boolean => {
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
