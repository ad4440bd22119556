import { describe, expect, it } from "vitest";
import { braceExpansions, MAX_GLOB_EXPANSIONS } from "../dist/index.js";

describe("brace expansion count (the cap on Lua path globs)", () => {
  it("multiplies groups, adds alternatives, counts ranges, and treats unclosed or single groups as literal", () => {
    const cases: [string, number][] = [
      ["users/*", 1],
      ["{a,b}", 2],
      ["{a,b}/{c,d,e}", 6],
      ["{a,{b,c}}", 3],
      ["{a,b{c,d}}", 3],
      ["{1..10}", 10],
      ["{a..e}", 5],
      ["{0..100..10}", 11],
      ["{a}", 1],
      ["{a,b", 1],
      ["\\{a,b}", 1],
      ["{a,b}".repeat(20), 2 ** 20],
    ];
    for (const [glob, expected] of cases) expect(braceExpansions(glob), glob).toBe(expected);
    expect(MAX_GLOB_EXPANSIONS).toBe(64);
  });

  it("saturates instead of overflowing", () => {
    expect(braceExpansions("{1..1000000}".repeat(10))).toBe(1e9);
  });
});
