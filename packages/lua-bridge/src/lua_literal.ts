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

const LUA_KEYWORDS = new Set(
  "and break do else elseif end false for function goto if in local nil not or repeat return then true until while".split(
    " ",
  ),
);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Object keys seen recently, as table-constructor keys: `name=` or `["odd key"]=`. */
const keyCache = new Map<string, string>();
const KEY_CACHE_SIZE = 4096;

function luaKey(key: string): string {
  let rendered = keyCache.get(key);
  if (rendered !== undefined) return rendered;
  rendered = IDENTIFIER.test(key) && !LUA_KEYWORDS.has(key) ? `${key}=` : `[${luaString(key)}]=`;
  if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear();
  keyCache.set(key, rendered);
  return rendered;
}

/** Where the value being rendered is: the root's name and the keys down to it (built only for an error). */
interface Walk {
  readonly root: string;
  readonly keys: (string | number)[];
  readonly ancestors: object[];
}

function pathOf(walk: Walk, depth: number): string {
  let path = walk.root;
  for (let i = 0; i < depth; i++) {
    const key = walk.keys[i]!;
    path += typeof key === "number" ? `[${key + 1}]` : `.${key}`;
  }
  return path;
}

/**
 * The Lua literal for a structured-cloneable value: objects and Maps become tables, arrays and
 * Sets sequences (1-based), Dates ISO strings, byte arrays byte strings, null/undefined nil.
 * Functions, symbols, cycles and NaN keys are refused with LuaConversionError naming where they
 * are. Runs once per event on the bus's hot path: paths are built only for an error, and keys
 * that are Lua identifiers are written bare (`seq=1`: shorter, and faster for Lua to parse).
 */
export function luaLiteral(value: unknown, at = "data"): string {
  return literal(value, 0, { root: at, keys: [], ancestors: [] });
}

function literal(value: unknown, depth: number, walk: Walk): string {
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
      throw new LuaConversionError(`a ${typeof value} cannot be converted to Lua`, pathOf(walk, depth));
  }
  if (value === null) return "nil";
  const object = value as object;
  if (depth >= MAX_DATA_DEPTH) {
    throw new LuaConversionError(
      `data nested deeper than ${MAX_DATA_DEPTH} levels cannot be converted to Lua`,
      pathOf(walk, depth),
    );
  }
  if (walk.ancestors.includes(object)) {
    throw new LuaConversionError("a cyclic structure cannot be converted to Lua", pathOf(walk, depth));
  }
  if (object instanceof Date) return luaString(object.toISOString());
  if (object instanceof Uint8Array) return luaBytes(object);
  if (object instanceof ArrayBuffer) return luaBytes(new Uint8Array(object));
  walk.ancestors.push(object);
  const keys = walk.keys;
  let out = "{";
  if (Array.isArray(object) || object instanceof Set) {
    const parts: string[] = [];
    let nested = false;
    let index = 0;
    for (const item of object) {
      keys[depth] = index++;
      const part = literal(item, depth + 1, walk);
      if (part.charCodeAt(0) === 123) nested = true;
      parts.push(part);
    }
    // Lua's parser keeps up to 50 positional items in registers until it flushes them; with a
    // table among them at each level, ten levels exceed its 255 registers ("function or
    // expression needs too many registers"). Keyed items are stored one by one.
    if (nested) for (let i = 0; i < parts.length; i++) parts[i] = `[${i + 1}]=${parts[i]}`;
    out += parts.join(",");
  } else if (object instanceof Map) {
    let first = true;
    for (const [key, item] of object) {
      if (typeof key !== "string" && typeof key !== "number") {
        throw new LuaConversionError(
          `a Map key of type ${typeof key} cannot be converted to Lua`,
          pathOf(walk, depth),
        );
      }
      if (Number.isNaN(key))
        throw new LuaConversionError("a NaN Map key cannot be converted to Lua", pathOf(walk, depth));
      keys[depth] = String(key);
      const rendered = `[${typeof key === "string" ? luaString(key) : luaNumber(key)}]=${literal(item, depth + 1, walk)}`;
      out += first ? rendered : `,${rendered}`;
      first = false;
    }
  } else {
    let first = true;
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      const item = (object as Record<string, unknown>)[key];
      if (item === undefined || item === null) continue;
      keys[depth] = key;
      const rendered = luaKey(key) + literal(item, depth + 1, walk);
      out += first ? rendered : `,${rendered}`;
      first = false;
    }
  }
  walk.ancestors.pop();
  return `${out}}`;
}
