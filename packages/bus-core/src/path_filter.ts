import { Minimatch } from "minimatch";
import { InvalidPatternError } from "./errors.js";

/** A compiled minimatch glob on `event.path`; compiled once at subscribe time. */
export interface PathFilter {
  readonly source: string;
  match(path: string): boolean;
}

export function compilePathFilter(glob: string): PathFilter {
  if (typeof glob !== "string" || glob === "") {
    throw new InvalidPatternError("path filter must be a non-empty minimatch glob", String(glob));
  }
  const matcher = new Minimatch(glob);
  if (matcher.set.length === 0 && !matcher.negate) {
    throw new InvalidPatternError(`path filter '${glob}' matches nothing`, glob);
  }
  return { source: glob, match: (path) => matcher.match(path) };
}
