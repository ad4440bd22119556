import { describeValue } from "./describe.js";
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
  /** The compiled segments; adjacent `**` are merged into one (`a.**.**.b` compiles as `a.**.b`). */
  readonly segments: readonly Segment[];
  /** True when the pattern has no wildcard: it matches exactly one value, `source`. */
  readonly isLiteral: boolean;
  /** True for the empty pattern, which matches nothing. */
  readonly matchesNothing: boolean;
  match(value: string): boolean;
  /** Same as `match` on a value already split on "." (the index splits each value once). */
  matchSegments(value: readonly string[]): boolean;
}

/**
 * Longest pattern `compilePattern` accepts, in UTF-16 code units. Patterns are written by people
 * (subscription filters), not generated from event data: 256 is far beyond any real filter, and a
 * bound keeps one careless subscription from costing the dispatcher more than it should.
 */
export const MAX_PATTERN_LENGTH = 256;

/** Most `.`-separated segments a pattern may have (counted as written, before `**.**` collapses). */
export const MAX_PATTERN_SEGMENTS = 32;

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
 * backtracks to the last `**` seen. Every other segment consumes exactly one value segment, so
 * retrying only from the last `**` is exact (an earlier `**` never needs a different split: the
 * later one absorbs the difference). Each backtrack moves `starV` one value segment on, and
 * between two backtracks `p` moves at most `segments.length` times, so the walk is
 * O(pattern segments × value segments) whatever the number of `**`, and allocates nothing.
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

/** `a.**.**.b` means `a.**.b`: adjacent `**` add nothing but work, so they are merged. */
function collapseAny(segments: Segment[]): Segment[] {
  return segments.filter((segment, i) => segment.type !== "any" || segments[i - 1]?.type !== "any");
}

/** The start of a long pattern, for error messages that must stay short. */
function excerpt(pattern: string): string {
  return pattern.length <= 64 ? pattern : `${pattern.slice(0, 64)}...`;
}

/**
 * Patterns compiled lately, shared: a Pattern is immutable, and per-entity subscriptions repeat
 * the same few (system, kind) filters 100,000 times, at ~350 bytes each (measured with
 * global.gc()). Bounded: it starts over when full, so any stream of patterns keeps it small.
 */
const recent = new Map<string, Pattern>();
const RECENT_PATTERNS = 1024;

/**
 * Compiles a pattern once (at subscribe time) into a matcher. Throws InvalidPatternError for a
 * non-string, a pattern longer than MAX_PATTERN_LENGTH or with more than MAX_PATTERN_SEGMENTS
 * segments, unbalanced parentheses or an empty alternative. The empty pattern compiles to a
 * matcher that matches nothing.
 */
export function compilePattern(pattern: string): Pattern {
  const known = typeof pattern === "string" ? recent.get(pattern) : undefined;
  if (known !== undefined) return known;
  const compiled = compileNew(pattern);
  if (recent.size >= RECENT_PATTERNS) recent.clear();
  recent.set(pattern, compiled);
  return compiled;
}

function compileNew(pattern: string): Pattern {
  if (typeof pattern !== "string") {
    throw new InvalidPatternError(
      `pattern must be a string, got ${describeValue(pattern)}`,
      describeValue(pattern),
    );
  }
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidPatternError(
      `invalid pattern '${excerpt(pattern)}': ${pattern.length} characters, at most ${MAX_PATTERN_LENGTH}`,
      pattern,
    );
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
  const texts = pattern.split(".");
  if (texts.length > MAX_PATTERN_SEGMENTS) {
    throw new InvalidPatternError(
      `invalid pattern '${excerpt(pattern)}': ${texts.length} segments, at most ${MAX_PATTERN_SEGMENTS}`,
      pattern,
    );
  }
  const segments = collapseAny(texts.map((text) => compileSegment(text, pattern)));
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
