import { InvalidPatternError } from "./errors.js";

/**
 * One compiled segment of a pattern. Values and patterns are split on "." into segments:
 * - literal: matches itself only (`foo*` is a literal; no escaping exists);
 * - one:     `*`, exactly one segment;
 * - any:     `**`, zero or more segments (at the end or in the middle);
 * - oneOf:   `(a|b|c)`, one segment equal to one of the options.
 */
export type Segment =
  | { readonly type: "literal"; readonly value: string }
  | { readonly type: "one" }
  | { readonly type: "any" }
  | { readonly type: "oneOf"; readonly options: ReadonlySet<string>; readonly source: string };

export interface Pattern {
  readonly source: string;
  readonly segments: readonly Segment[];
  /** True when the pattern has no wildcard: it matches exactly one value, `source`. */
  readonly isLiteral: boolean;
  /** True for the empty pattern, which matches nothing. */
  readonly matchesNothing: boolean;
  match(value: string): boolean;
  /** Same as `match` on a value already split on "." (the index splits each value once). */
  matchSegments(value: readonly string[]): boolean;
}

/** Splits a value into segments; the empty value has no segments. */
export function splitSegments(value: string): string[] {
  return value === "" ? [] : value.split(".");
}

const ONE: Segment = { type: "one" };
const ANY: Segment = { type: "any" };

function compileSegment(text: string, pattern: string): Segment {
  if (text === "*") return ONE;
  if (text === "**") return ANY;
  const open = text.indexOf("(");
  const close = text.indexOf(")");
  if (open === -1 && close === -1) return { type: "literal", value: text };
  if (open !== 0 || close !== text.length - 1 || text.indexOf("(", 1) !== -1 || text.indexOf(")") !== close) {
    throw new InvalidPatternError(
      `invalid pattern '${pattern}': unbalanced parentheses in segment '${text}' (an alternation must be a whole segment, like '(a|b)')`,
      pattern,
    );
  }
  const options = text.slice(1, -1).split("|");
  if (options.some((option) => option === "")) {
    throw new InvalidPatternError(`invalid pattern '${pattern}': empty option in '${text}'`, pattern);
  }
  return { type: "oneOf", options: new Set(options), source: text };
}

function segmentMatches(segment: Segment, value: string): boolean {
  switch (segment.type) {
    case "literal":
      return segment.value === value;
    case "one":
      return true;
    case "oneOf":
      return segment.options.has(value);
    case "any":
      return true;
  }
}

/**
 * Glob matching where `**` is the only variable-length token: the classic two-pointer walk that
 * backtracks to the last `**` seen. Every other segment consumes exactly one value segment, so the
 * walk is exact and runs in O(segments × stars) without allocating.
 */
function matchCompiled(segments: readonly Segment[], value: readonly string[]): boolean {
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    const segment = segments[p];
    if (segment !== undefined && segment.type === "any") {
      starP = p++;
      starV = v;
    } else if (segment !== undefined && segmentMatches(segment, value[v]!)) {
      p++;
      v++;
    } else if (starP !== -1) {
      p = starP + 1;
      v = ++starV;
    } else {
      return false;
    }
  }
  while (p < segments.length && segments[p]!.type === "any") p++;
  return p === segments.length;
}

/**
 * Compiles a pattern once (at subscribe time) into a matcher. Throws InvalidPatternError for
 * unbalanced parentheses or an empty alternative. The empty pattern compiles to a matcher that
 * matches nothing.
 */
export function compilePattern(pattern: string): Pattern {
  if (typeof pattern !== "string") {
    throw new InvalidPatternError(`pattern must be a string, got ${typeof pattern}`, String(pattern));
  }
  if (pattern === "") {
    return {
      source: "",
      segments: [],
      isLiteral: false,
      matchesNothing: true,
      match: () => false,
      matchSegments: () => false,
    };
  }
  const segments = pattern.split(".").map((text) => compileSegment(text, pattern));
  const isLiteral = segments.every((segment) => segment.type === "literal");
  if (isLiteral) {
    return {
      source: pattern,
      segments,
      isLiteral,
      matchesNothing: false,
      match: (value) => value === pattern,
      matchSegments: (value) => value.join(".") === pattern,
    };
  }
  return {
    source: pattern,
    segments,
    isLiteral,
    matchesNothing: false,
    match: (value) => matchCompiled(segments, splitSegments(value)),
    matchSegments: (value) => matchCompiled(segments, value),
  };
}
