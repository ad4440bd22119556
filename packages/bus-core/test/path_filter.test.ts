import { braceExpand } from "minimatch";
import { describe, expect, it, vi } from "vitest";
import {
  compilePathFilter,
  countBraceExpansions,
  InvalidPatternError,
  MAX_PATH_GLOB_ALTERNATIVES,
  MAX_PATH_GLOB_LENGTH,
} from "../src/index.js";

/** Counts Minimatch constructions, to prove a refusal came before minimatch expanded anything. */
const constructed = vi.hoisted(() => ({ count: 0 }));
vi.mock("minimatch", async (importOriginal) => {
  const original = await importOriginal<typeof import("minimatch")>();
  class CountingMinimatch extends original.Minimatch {
    constructor(...args: ConstructorParameters<typeof original.Minimatch>) {
      constructed.count++;
      super(...args);
    }
  }
  return { ...original, Minimatch: CountingMinimatch };
});

function refusal(glob: unknown): unknown {
  try {
    compilePathFilter(glob as string);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("path filters", () => {
  it("match paths as minimatch globs, braces included", () => {
    const filter = compilePathFilter("logs/{app,db}/**/*.{txt,log}");
    expect(filter.match("logs/app/2026/a.txt")).toBe(true);
    expect(filter.match("logs/db/b.log")).toBe(true);
    expect(filter.match("logs/web/b.log")).toBe(false);
    expect(filter.match("logs/app/a.png")).toBe(false);
  });

  it("treat a backslash as an escape on every platform (paths are ids, not Windows file names)", () => {
    const filter = compilePathFilter("a\\*b");
    expect(filter.match("a*b")).toBe(true);
    expect(filter.match("axb")).toBe(false);
  });

  it("refuse what is not a non-empty string with INVALID_PATTERN", () => {
    for (const bad of ["", undefined, null, 7, Number.NaN, {}, ["a"]]) {
      expect(refusal(bad), String(bad)).toBeInstanceOf(InvalidPatternError);
    }
  });

  it(`refuse a glob over ${MAX_PATH_GLOB_LENGTH} characters, accept one at the limit`, () => {
    const atLimit = "x".repeat(MAX_PATH_GLOB_LENGTH);
    expect(compilePathFilter(atLimit).match(atLimit)).toBe(true);
    const error = refusal("x".repeat(MAX_PATH_GLOB_LENGTH + 1));
    expect(error).toMatchObject({ code: "INVALID_PATTERN" });
    expect((error as Error).message.length).toBeLessThan(200);
    expect(refusal("*".repeat(5_000_000))).toMatchObject({ code: "INVALID_PATTERN" });
  });

  it(`refuse braces that expand past ${MAX_PATH_GLOB_ALTERNATIVES} globs before minimatch expands them`, () => {
    // `{a,b}` x 18 took 0.5-1.5 s and ~280 MB inside minimatch before this check.
    const before = constructed.count;
    for (const glob of [
      "{a,b}".repeat(18),
      "{a,b}".repeat(11),
      "{1..100000}",
      "{a..z}{a..z}{a..z}",
      "{{a,b,c,d},{e,f,g,h}}".repeat(4),
      "x/{1..2000}/y",
    ]) {
      const error = refusal(glob);
      expect(error, glob).toBeInstanceOf(InvalidPatternError);
      expect(error).toMatchObject({ code: "INVALID_PATTERN", pattern: glob });
    }
    expect(constructed.count - before).toBe(0);
    expect(compilePathFilter("{a,b}".repeat(10)).match("ab".repeat(5))).toBe(true);
  });

  it("count brace expansions as minimatch's expander makes them", () => {
    for (const glob of [
      "a",
      "{a,b}",
      "{a,{b,c}}x{1..3}",
      "{1..10..3}",
      "{a..e}",
      "{-5..5}",
      "{01..10}",
      "\\{a,b}",
      "{a}",
      "{a{b,c}}",
      "{a,b",
      "a,b}",
      "{a,}{b,c}",
      "x/{a,b}/**/{c,d,e}.txt",
      "{{a,b},{c,d}}{e,f}",
      "+(a|b){c,d}",
      "{a,b}\\,c}",
      "{a,b}".repeat(6),
    ]) {
      expect(countBraceExpansions(glob), glob).toBe(braceExpand(glob).length);
    }
    // An upper bound where bash drops empty alternatives.
    expect(countBraceExpansions("{,a}")).toBeGreaterThanOrEqual(braceExpand("{,a}").length);
  });

  it("refuse a glob whose braces the count misses but minimatch still expands past the cap", () => {
    // `{a},b}` is bash's quirk (two results) that the count reads as text; chained, minimatch's
    // own expansion reaches the cap, and a truncated filter must not be trusted.
    const glob = "{a},b}".repeat(11);
    expect(countBraceExpansions(glob)).toBeLessThanOrEqual(MAX_PATH_GLOB_ALTERNATIVES);
    const before = constructed.count;
    expect(refusal(glob)).toMatchObject({ code: "INVALID_PATTERN" });
    expect(constructed.count - before).toBe(1);
  });
});
