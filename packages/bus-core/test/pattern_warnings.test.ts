import { describe, expect, it } from "vitest";
import { Bus, compilePattern, patternMistake } from "../src/index.js";

/** A logger that records warnings. */
function recorder(): { warn: (message: string) => void; error: () => void; warnings: string[] } {
  const warnings: string[] = [];
  return { warn: (message: string) => void warnings.push(message), error: () => undefined, warnings };
}

describe("patterns that look like wildcards but are literal", () => {
  const mistakes: [string, string][] = [
    ["created|paid", "'(created|paid)'"],
    ["create*", "a wildcard is a whole segment"],
    ["a.**x", "a wildcard is a whole segment"],
    [".*", "empty segment"],
    ["a..b", "empty segment"],
    ["orders.", "empty segment"],
    ["orders/*", "not '/'"],
  ];
  for (const [pattern, why] of mistakes) {
    it(`'${pattern}' compiles, and is named as a likely mistake`, () => {
      // Accepted (each is a valid pattern under the design's rules), never matching what it seems to.
      expect(compilePattern(pattern).match("orders.created")).toBe(false);
      expect(patternMistake(pattern)).toContain(why);
    });
  }

  it("patterns that read as they match are not named", () => {
    for (const pattern of ["", "*", "**", "a.*", "a.**.b", "(created|paid)", "order.(a|b).*", "foo-bar_1"])
      expect(patternMistake(pattern), pattern).toBeNull();
  });

  it("the Bus warns through its logger once per pattern, and still subscribes", async () => {
    const logger = recorder();
    const bus = new Bus({ logger });
    const first = await bus.subscribe("orders", "created|paid");
    await bus.subscribe("orders", "created|paid");
    await bus.subscribe("orders/*");
    await bus.subscribe("orders", "(created|paid)");
    expect(logger.warnings).toHaveLength(2);
    expect(logger.warnings[0]).toContain("the kind pattern 'created|paid'");
    expect(logger.warnings[1]).toContain("the system pattern 'orders/*'");
    bus.send({ system: "orders", kind: "created|paid", path: "" });
    await bus.flush();
    expect(first.stats().delivered).toBe(1);
    await bus.stop();
  });
});
