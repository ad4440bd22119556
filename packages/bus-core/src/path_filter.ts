import { Minimatch, type MinimatchOptions } from "minimatch";
import { describeValue } from "./describe.js";
import { InvalidPatternError } from "./errors.js";
import { isPlainPath, pathShape } from "./path_index.js";

/** A compiled minimatch glob on `event.path`; compiled once at subscribe time. */
export interface PathFilter {
  readonly source: string;
  match(path: string): boolean;
}

/** Longest path glob `compilePathFilter` accepts, in UTF-16 code units. */
export const MAX_PATH_GLOB_LENGTH = 1024;

/**
 * Most globs a path filter's braces may expand to (`{a,b}/{c,d}` expands to 4). minimatch expands
 * braces eagerly into one matcher each: `{a,b}` 18 times over (262,144 globs, which minimatch
 * truncates to 100,000) blocked the thread for 0.5-1.5 s and took ~280 MB, while 1,024 compile in
 * a few milliseconds.
 */
export const MAX_PATH_GLOB_ALTERNATIVES = 1024;

/**
 * Fixed options, so a filter means the same on every thread and platform: event paths are entity
 * ids, not file names, so Windows path rules never apply; the brace cap is a second line behind
 * the count below (minimatch truncates at it silently, so reaching it is refused, not trusted).
 */
const MINIMATCH_OPTIONS: MinimatchOptions = {
  platform: "linux",
  braceExpandMax: MAX_PATH_GLOB_ALTERNATIVES + 1,
};

export function compilePathFilter(glob: string): PathFilter {
  if (typeof glob !== "string" || glob === "") {
    throw new InvalidPatternError(
      `path filter must be a non-empty minimatch glob, got ${describeValue(glob)}`,
      describeValue(glob),
    );
  }
  if (glob.length > MAX_PATH_GLOB_LENGTH) {
    throw new InvalidPatternError(
      `path filter of ${glob.length} characters: at most ${MAX_PATH_GLOB_LENGTH}`,
      glob,
    );
  }
  const shape = pathShape(glob);
  if (shape !== null && "literal" in shape) return literalPathFilter(glob);
  const alternatives = countBraceExpansions(glob);
  if (alternatives > MAX_PATH_GLOB_ALTERNATIVES) {
    throw new InvalidPatternError(
      `path filter '${excerpt(glob)}' expands to ${Number.isFinite(alternatives) ? alternatives : "too many"} globs through its braces: at most ${MAX_PATH_GLOB_ALTERNATIVES}`,
      glob,
    );
  }
  let matcher: Minimatch;
  try {
    matcher = new Minimatch(glob, MINIMATCH_OPTIONS);
  } catch (error) {
    throw new InvalidPatternError(
      `path filter '${excerpt(glob)}' is not a valid glob: ${String(error)}`,
      glob,
    );
  }
  if (matcher.set.length > MAX_PATH_GLOB_ALTERNATIVES) {
    throw new InvalidPatternError(
      `path filter '${excerpt(glob)}' expands to more than ${MAX_PATH_GLOB_ALTERNATIVES} globs`,
      glob,
    );
  }
  if (matcher.set.length === 0 && !matcher.negate) {
    throw new InvalidPatternError(`path filter '${glob}' matches nothing`, glob);
  }
  return { source: glob, match: (path) => matcher.match(path) };
}

const excerpt = describeValue;

/**
 * A glob without glob syntax matches a plain path only when equal to it, so it needs no compiled
 * matcher until an unplain path ("user//1") comes: a Minimatch is ~10 KB, most of an idle
 * subscription's memory when 100,000 entities each have their own.
 */
function literalPathFilter(glob: string): PathFilter {
  let matcher: Minimatch | null = null;
  return {
    source: glob,
    match(path) {
      if (path === glob) return true;
      if (isPlainPath(path)) return false;
      matcher ??= new Minimatch(glob, MINIMATCH_OPTIONS);
      return matcher.match(path);
    },
  };
}

const NUMERIC_SEQUENCE = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/;
const ALPHA_SEQUENCE = /^([a-zA-Z])\.\.([a-zA-Z])(?:\.\.(-?\d+))?$/;

/**
 * How many globs brace expansion makes of `glob`, counted without making them: a run of text and
 * brace sets multiplies, the alternatives of one set add up (`{a,{b,c}}x{1..3}` = 3 × 3), and a
 * sequence `{1..9..2}` counts its values. An escaped brace, an unbalanced `{` and a set with
 * neither `,` nor `..` are text. Hand-written because the expander (brace-expansion) only counts
 * by expanding, which is the cost this exists to avoid; it reads at most O(length²) characters.
 */
export function countBraceExpansions(glob: string): number {
  return countRun(glob, 0, glob.length, false).count;
}

/** Counts from `from` to `to`, or (inside a set) to the first `,` or `}` at this depth. */
function countRun(glob: string, from: number, to: number, inSet: boolean): { count: number; end: number } {
  let count = 1;
  let i = from;
  while (i < to) {
    const char = glob[i];
    if (char === "\\") i += 2;
    else if (inSet && (char === "," || char === "}")) break;
    else if (char === "{") {
      const close = matchingBrace(glob, i, to);
      if (close === -1) i++;
      else {
        count *= countSet(glob, i + 1, close);
        i = close + 1;
      }
    } else i++;
  }
  return { count, end: Math.min(i, to) };
}

/** Counts the brace set whose body runs from `from` to `to` (the closing brace). */
function countSet(glob: string, from: number, to: number): number {
  const body = glob.slice(from, to);
  const numeric = NUMERIC_SEQUENCE.exec(body);
  if (numeric) return sequenceLength(Number(numeric[1]), Number(numeric[2]), numeric[3]);
  const alpha = ALPHA_SEQUENCE.exec(body);
  if (alpha) return sequenceLength(alpha[1]!.charCodeAt(0), alpha[2]!.charCodeAt(0), alpha[3]);
  // Alternatives add up; a body with no comma (`{a}`) is text whose inner sets still expand.
  let total = 0;
  for (let i = from; ; ) {
    const part = countRun(glob, i, to, true);
    total += part.count;
    if (part.end >= to) return total;
    i = part.end + 1;
  }
}

function sequenceLength(first: number, last: number, step: string | undefined): number {
  const by = Math.abs(step === undefined ? 1 : Number(step)) || 1;
  return Math.floor(Math.abs(last - first) / by) + 1;
}

/** The index of the `}` closing the `{` at `open`, before `to`; -1 if it is never closed. */
function matchingBrace(glob: string, open: number, to: number): number {
  let depth = 0;
  for (let i = open; i < to; i++) {
    const char = glob[i];
    if (char === "\\") i++;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return i;
  }
  return -1;
}
