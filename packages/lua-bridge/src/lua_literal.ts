/**
 * JS values -> Lua source text. Events reach Lua as one generated chunk per batch, compiled by
 * Lua's own parser: one call returning 64 events packed in a string and split in Lua ran at
 * ~480k events/s, against ~47k/s when wasmoon turns each JS object into a table.
 */

/** Deeper data would hit the Lua parser's nesting limit (LUAI_MAXCCALLS, 200). */
export const MAX_DATA_DEPTH = 100;

export class LuaConversionError extends Error {
  constructor(
    message: string,
    readonly at: string,
  ) {
    super(at === "" ? message : `${at}: ${message}`);
    this.name = "LuaConversionError";
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON.stringify writes exactly these as \uXXXX
const NEEDS_CAREFUL_ESCAPE = /[\u0000-\u001f\ud800-\udfff]/;
const JSON_ESCAPE = /\\(\\|u[0-9a-f]{4})/g;

/**
 * A Lua string literal for `value`. JSON.stringify's escapes are Lua's, except `\uXXXX`, which Lua
 * spells `\u{XXXX}`; JSON only emits it for control characters and lone surrogates.
 */
export function luaString(value: string): string {
  const json = JSON.stringify(value);
  if (!NEEDS_CAREFUL_ESCAPE.test(value)) return json;
  return json.replace(JSON_ESCAPE, (match, sequence: string) =>
    sequence === "\\" ? match : `\\u{${sequence.slice(1)}}`,
  );
}

function luaNumber(value: number): string {
  if (Number.isInteger(value)) {
    if (Object.is(value, -0)) return "-0.0";
    return Number.isSafeInteger(value) ? String(value) : value.toExponential();
  }
  if (Number.isNaN(value)) return "(0/0)";
  if (value === Number.POSITIVE_INFINITY) return "(1/0)";
  if (value === Number.NEGATIVE_INFINITY) return "(-1/0)";
  return String(value);
}

const INT64_MAX = 2n ** 63n - 1n;

function luaBigInt(value: bigint): string {
  return value <= INT64_MAX && value >= -INT64_MAX - 1n ? String(value) : luaString(String(value));
}

function luaBytes(bytes: Uint8Array): string {
  let out = '"';
  for (const byte of bytes) out += `\\${byte}`;
  return `${out}"`;
}

function keyPath(at: string, key: string | number): string {
  return typeof key === "number" ? `${at}[${key + 1}]` : `${at}.${key}`;
}

/**
 * The Lua literal for a structured-cloneable value: objects and Maps become tables, arrays and
 * Sets sequences (1-based), Dates ISO strings, byte arrays byte strings, null/undefined nil.
 * Functions, symbols and cycles are refused with LuaConversionError naming where they are.
 */
export function luaLiteral(value: unknown, at = "data"): string {
  return literal(value, at, 0, new Set());
}

function literal(value: unknown, at: string, depth: number, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
      return luaString(value);
    case "number":
      return luaNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "nil";
    case "bigint":
      return luaBigInt(value);
    case "function":
    case "symbol":
      throw new LuaConversionError(`a ${typeof value} cannot be converted to Lua`, at);
  }
  if (value === null) return "nil";
  const object = value as object;
  if (depth >= MAX_DATA_DEPTH) {
    throw new LuaConversionError(
      `data nested deeper than ${MAX_DATA_DEPTH} levels cannot be converted to Lua`,
      at,
    );
  }
  if (ancestors.has(object))
    throw new LuaConversionError("a cyclic structure cannot be converted to Lua", at);
  if (object instanceof Date) return luaString(object.toISOString());
  if (object instanceof Uint8Array) return luaBytes(object);
  if (object instanceof ArrayBuffer) return luaBytes(new Uint8Array(object));
  ancestors.add(object);
  try {
    const parts: string[] = [];
    if (Array.isArray(object) || object instanceof Set) {
      let index = 0;
      let nested = false;
      for (const item of object) {
        const part = literal(item, keyPath(at, index++), depth + 1, ancestors);
        if (part.charCodeAt(0) === 123) nested = true;
        parts.push(part);
      }
      // Lua's parser keeps up to 50 positional items in registers until it flushes them; with a
      // table among them at each level, ten levels exceed its 255 registers ("function or
      // expression needs too many registers"). Keyed items are stored one by one.
      if (nested) for (let i = 0; i < parts.length; i++) parts[i] = `[${i + 1}]=${parts[i]}`;
    } else if (object instanceof Map) {
      for (const [key, item] of object) {
        if (typeof key !== "string" && typeof key !== "number") {
          throw new LuaConversionError(`a Map key of type ${typeof key} cannot be converted to Lua`, at);
        }
        if (Number.isNaN(key)) throw new LuaConversionError("a NaN Map key cannot be converted to Lua", at);
        parts.push(
          `[${literal(key, at, depth + 1, ancestors)}]=${literal(item, keyPath(at, String(key)), depth + 1, ancestors)}`,
        );
      }
    } else {
      for (const key of Object.keys(object)) {
        const item = (object as Record<string, unknown>)[key];
        if (item === undefined || item === null) continue;
        parts.push(`[${luaString(key)}]=${literal(item, keyPath(at, key), depth + 1, ancestors)}`);
      }
    }
    return `{${parts.join(",")}}`;
  } finally {
    ancestors.delete(object);
  }
}
