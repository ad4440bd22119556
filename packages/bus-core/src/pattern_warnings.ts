import type { Logger } from "./types.js";

/**
 * Patterns that compile but almost surely do not say what their writer meant: each is a valid
 * literal (the design keeps `foo*` literal, with no escaping), so it is accepted, and it would
 * match nothing the writer expected, in silence. Returns why, or null for a pattern that reads as
 * it matches.
 */
export function patternMistake(pattern: string): string | null {
  if (pattern === "" || pattern.length > 256) return null;
  const segments = pattern.split(".");
  for (const segment of segments) {
    if (segment === "")
      return `has an empty segment ('${pattern}' split on '.'), which matches only an empty segment: segments are separated by single dots`;
    if (segment.includes("/"))
      return `has the segment '${segment}', which is literal: segments are separated by '.', not '/' (a glob on the event's path is the subscription's \`path\` option)`;
    const grouped = segment.startsWith("(") && segment.endsWith(")");
    if (segment.includes("|") && !grouped)
      return `has the segment '${segment}', which is literal: alternatives need parentheses, '(${segment})'`;
    if (segment.includes("*") && segment !== "*" && segment !== "**")
      return `has the segment '${segment}', which is literal: a wildcard is a whole segment, '*' (one) or '**' (any number)`;
  }
  return null;
}

/** Distinct patterns remembered as warned about; past it, further mistakes are not warned about. */
const MAX_WARNED = 1024;

/**
 * Warns once per pattern through a bus's logger when a subscription's system or kind pattern
 * looks like a wildcard but is literal (see patternMistake). Both buses use it at subscribe time.
 */
export class PatternWarnings {
  readonly #logger: Logger;
  readonly #warned = new Set<string>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  check(system: string, kind: string | undefined): void {
    this.#checkOne("system", system);
    if (kind !== undefined) this.#checkOne("kind", kind);
  }

  #checkOne(role: string, pattern: string): void {
    if (typeof pattern !== "string" || this.#warned.has(pattern)) return;
    const mistake = patternMistake(pattern);
    if (mistake === null) return;
    if (this.#warned.size < MAX_WARNED) this.#warned.add(pattern);
    this.#logger.warn(`threadbus: the ${role} pattern '${pattern}' ${mistake}`);
  }
}
