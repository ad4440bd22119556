/**
 * Caps on what a script may subscribe with, checked before anything is compiled. Scripts are
 * untrusted and a path glob is compiled by minimatch, which expands braces up front and turns
 * the rest into a regular expression: `{a,b}{a,b}...` froze the host ~1 s, a range `{1..1000000}`
 * expands to a million alternatives, and many `*` in one glob can backtrack on a long path. The
 * caps are generous for real filters ("users/*", "orders/{eu,us}/**") and cheap to check.
 */
export const MAX_PATTERN_LENGTH = 256;
export const MAX_GLOB_LENGTH = 256;
/** `*` and `?` in one glob (`**` counts two). */
export const MAX_GLOB_WILDCARDS = 8;
/** Alternatives a glob's braces expand to (minimatch compiles one matcher per alternative). */
export const MAX_GLOB_EXPANSIONS = 64;

const EXTGLOB = /[+*?@!]\(/;
const RANGE = /^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?$/;
const LIMIT = 1e9;

/** Null when a system or kind pattern is acceptable, else why not. */
export function patternProblem(pattern: string, what: "system" | "kind"): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return `the ${what} pattern is ${pattern.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`;
  }
  return null;
}

/** Null when a path glob is acceptable, else why not. */
export function globProblem(glob: string): string | null {
  if (glob.length > MAX_GLOB_LENGTH) {
    return `the path glob is ${glob.length} characters long; at most ${MAX_GLOB_LENGTH} are allowed`;
  }
  if (EXTGLOB.test(glob)) return "extglob patterns such as +(a|b) are not allowed in a path glob";
  let wildcards = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charCodeAt(i);
    if (c === 92)
      i++; // "\" escapes the next character
    else if (c === 42 || c === 63) wildcards++;
  }
  if (wildcards > MAX_GLOB_WILDCARDS) {
    return `the path glob has ${wildcards} wildcards (* and ?); at most ${MAX_GLOB_WILDCARDS} are allowed`;
  }
  const expansions = braceExpansions(glob);
  if (expansions > MAX_GLOB_EXPANSIONS) {
    const count = expansions >= LIMIT ? "over a billion" : String(expansions);
    return `the path glob's braces expand to ${count} alternatives; at most ${MAX_GLOB_EXPANSIONS} are allowed`;
  }
  return null;
}

/**
 * How many globs brace expansion turns `glob` into (bash rules, as minimatch applies them): a
 * group multiplies what surrounds it, its alternatives add up, `{a..b}` counts its range, and an
 * unclosed or single-item group is literal. Saturates at a billion.
 */
export function braceExpansions(glob: string): number {
  let i = 0;
  const sequence = (inGroup: boolean): number => {
    let total = 1;
    while (i < glob.length) {
      const c = glob[i];
      if (c === "\\") {
        i += 2;
      } else if (inGroup && (c === "," || c === "}")) {
        return total;
      } else if (c === "{") {
        const start = i;
        i++;
        const count = group();
        if (count < 0) i = start + 1;
        else total = Math.min(total * count, LIMIT);
      } else {
        i++;
      }
    }
    return total;
  };
  const group = (): number => {
    const close = glob.indexOf("}", i);
    const range = close < 0 ? null : RANGE.exec(glob.slice(i, close));
    if (range) {
      i = close + 1;
      return rangeSize(range[1]!, range[2]!, range[3]);
    }
    let sum = 0;
    let alternatives = 0;
    for (;;) {
      sum = Math.min(sum + sequence(true), LIMIT);
      alternatives++;
      if (i >= glob.length) return -1;
      if (glob[i] === ",") {
        i++;
        continue;
      }
      i++; // "}"
      return alternatives < 2 ? 1 : sum;
    }
  };
  return sequence(false);
}

function rangeSize(from: string, to: string, step: string | undefined): number {
  const numeric = /\d/.test(from);
  const a = numeric ? Number(from) : from.charCodeAt(0);
  const b = numeric ? Number(to) : to.charCodeAt(0);
  const by = Math.max(1, Math.abs(Number(step ?? 1)) || 1);
  return Math.min(Math.floor(Math.abs(b - a) / by) + 1, LIMIT);
}
