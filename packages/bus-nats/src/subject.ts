import { compilePattern, type Segment, splitSegments } from "@threadbus/core";

/**
 * How bus names become NATS subjects.
 *
 * An event goes to `<prefix>.<system>.<kind>`: every "."-segment of system and kind becomes one
 * subject token, so bus wildcards map onto NATS wildcards token for token. A segment NATS cannot
 * carry as a token (empty, whitespace or control characters, non-ASCII, anything containing `*`,
 * `>` or the escape mark `~`) is written as `~` + base64url(UTF-8 bytes). The mapping is
 * injective and keeps segment boundaries, so `*` still matches exactly one (encoded) segment and a
 * literal pattern segment encodes to the same token as the value it names.
 */
const SAFE_TOKEN = /^[\x21-\x29\x2b-\x3d\x3f-\x7d]+$/;
const ESCAPE = "~";

export function encodeToken(segment: string): string {
  if (SAFE_TOKEN.test(segment)) return segment;
  return ESCAPE + Buffer.from(segment, "utf8").toString("base64url");
}

/** Encodes a bus name ("registry", "entry.update") into subject tokens joined by ".". */
export function encodeName(name: string): string {
  return splitSegments(name).map(encodeToken).join(".");
}

/** The subject an event is published on. `system` and `kind` are non-empty bus names. */
export function subjectFor(prefix: string, system: string, kind: string): string {
  return `${prefix}.${encodeName(system)}.${encodeName(kind)}`;
}

/**
 * A pattern translated to NATS: the subjects to subscribe to, and whether those subjects match
 * exactly the values the pattern matches (`exact`), or a superset that a local filter with the
 * core matcher must narrow down.
 */
export interface SubjectFilter {
  readonly subjects: readonly string[];
  readonly exact: boolean;
}

/**
 * Translates compiled pattern segments (already prefixed) to NATS subjects:
 * - literal -> its encoded token; `*` -> `*`;
 * - trailing `**` (one or more) -> `x` and `x.>` (two subscriptions, exact), or `>` alone;
 * - `(a|b)` -> `*`, and a middle `**` -> `>` ending the subject: the widest subject that covers
 *   the pattern, never exact.
 * A pattern that matches nothing (the empty pattern) translates to no subject at all.
 */
export function translateSegments(segments: readonly Segment[]): SubjectFilter {
  if (segments.length === 0) return { subjects: [], exact: true };
  const tokens: string[] = [];
  let exact = true;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    switch (segment.type) {
      case "literal":
        tokens.push(encodeToken(segment.value));
        break;
      case "one":
        tokens.push("*");
        break;
      case "oneOf":
        tokens.push("*");
        exact = false;
        break;
      case "any": {
        const trailing = segments.slice(i + 1).every((rest) => rest.type === "any");
        if (!trailing) exact = false;
        if (tokens.length === 0) return { subjects: [">"], exact };
        const base = tokens.join(".");
        return { subjects: trailing ? [base, `${base}.>`] : [`${base}.>`], exact };
      }
    }
  }
  return { subjects: [tokens.join(".")], exact };
}

/** Translates one bus pattern (as `compilePattern` reads it) under an optional subject prefix. */
export function translatePattern(pattern: string, prefix = ""): SubjectFilter {
  const compiled = compilePattern(pattern);
  if (compiled.matchesNothing) return { subjects: [], exact: true };
  return translateSegments([...prefixSegments(prefix), ...compiled.segments]);
}

/**
 * Translates an import filter (system pattern, kind pattern; kind "" = every kind) to the subjects
 * under `prefix`. Never exact: system and kind share one subject, and `a.b.c` may be system "a.b"
 * with kind "c" or system "a" with kind "b.c", so the bridge always checks the envelope's system
 * and kind with the core matcher as well.
 */
export function translateFilter(prefix: string, system: Segment[], kind: Segment[] | null): SubjectFilter {
  // Every kind = one or more segments (a kind is never empty): `*` then `**`.
  const everyKind: Segment[] = [{ type: "one" }, { type: "any" }];
  const all = [...prefixSegments(prefix), ...system, ...(kind ?? everyKind)];
  return { subjects: translateSegments(all).subjects, exact: false };
}

function prefixSegments(prefix: string): Segment[] {
  return splitSegments(prefix).map((value) => ({ type: "literal", value }) as const);
}

/** True when `prefix` is usable as the literal head of a subject: safe tokens, no wildcards. */
export function isValidPrefix(prefix: string): boolean {
  return prefix !== "" && prefix.split(".").every((token) => SAFE_TOKEN.test(token));
}
