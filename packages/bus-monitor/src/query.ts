import { z } from "zod";

/** A bad query parameter: answered with 400 and this message, never a crash. */
export class QueryError extends Error {
  readonly status = 400;
}

/** Parameters every endpoint accepts besides its own. */
const COMMON = new Set(["token"]);

/**
 * Reads a query string into `schema` (strict: an unknown or repeated parameter is refused).
 * Every value arrives as a string; the schema converts it.
 */
export function parseQuery<S extends z.ZodObject>(query: URLSearchParams, schema: S): z.infer<S> {
  const raw: Record<string, string> = {};
  for (const [name, value] of query) {
    if (COMMON.has(name)) continue;
    if (!(name in schema.shape)) {
      const known = Object.keys(schema.shape);
      throw new QueryError(
        `unknown query parameter '${name}'${known.length > 0 ? ` (this endpoint takes: ${known.join(", ")})` : ""}`,
      );
    }
    if (name in raw) throw new QueryError(`query parameter '${name}' is given more than once`);
    raw[name] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new QueryError(`query parameter '${issue.path.join(".")}' ${issue.message}`);
  }
  return parsed.data;
}

/** A non-negative integer parameter with a default and a maximum. */
export function integerParam(fallback: number, max: number) {
  const message = `must be an integer from 0 to ${max}`;
  return z
    .string()
    .regex(/^\d{1,9}$/, message)
    .transform(Number)
    .pipe(z.number().max(max, message))
    .optional()
    .transform((value) => value ?? fallback);
}

/**
 * One of `values`, with a default. The return type is written out: the one tsc infers puts a
 * mapped type in the published .d.ts that a user's tsc without skipLibCheck refuses (TS2536).
 */
export function choiceParam<const T extends readonly [string, ...string[]]>(
  values: T,
  fallback: T[number],
): z.ZodType<T[number], T[number] | undefined> {
  return z
    .enum(values, { error: `must be one of ${values.join(", ")}` })
    .optional()
    .transform((value) => value ?? fallback);
}

/** A string of at most 256 characters (names and patterns). */
export function textParam(what: string) {
  return z.string().max(256, `must be at most 256 characters (${what})`);
}
