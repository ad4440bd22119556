/**
 * The object parts of a compiled codec (compiled_codec.ts), generated as code: an object of a
 * known shape read and written with its keys as literals (`v["seq"]`, `{ "seq": f0(), ... }`)
 * gets V8's named-property fast paths and one hidden class for every decoded object, where a loop
 * over the keys goes through keyed loads and stores. Only keys and field indices reach the
 * generated text (keys as JSON string literals); the field codecs are passed in as functions.
 */

export type Measure = (value: unknown) => number;
export type Write = (target: Buffer, at: number, value: unknown) => number;
export type Read = () => unknown;

export interface ObjectLayout {
  readonly keys: readonly string[];
  /** Per key: may be absent, behind a presence byte. */
  readonly optional: readonly boolean[];
  readonly strict: boolean;
}

function locals(count: number): string {
  return Array.from({ length: count }, (_, i) => `const f${i} = f[${i}];`).join("\n");
}

/** `-1` for a value that is not such an object (or has a field that does not fit). */
export function objectMeasure(layout: ObjectLayout, fields: readonly Measure[]): Measure {
  const body = [
    'if (typeof v !== "object" || v === null || Array.isArray(v)) return -1;',
    "let t = 0, n, x;",
  ];
  layout.keys.forEach((key, i) => {
    const k = JSON.stringify(key);
    body.push(`x = v[${k}];`);
    if (layout.optional[i]) body.push(`t++;`, `if (x !== undefined || ${k} in v) {`);
    body.push(`n = f${i}(x);`, "if (n < 0) return -1;", "t += n;");
    if (layout.optional[i]) body.push("}");
  });
  if (layout.strict) body.push("for (const key in v) if (!keys.includes(key)) return -1;");
  body.push("return t;");
  const source = `${locals(fields.length)}\nreturn function measureObject(v) {\n${body.join("\n")}\n};`;
  return new Function("f", "keys", source)(fields, layout.keys) as Measure;
}

/** Writes the fields in schema order; an optional key behind a presence byte (0 absent, 1 present). */
export function objectWrite(layout: ObjectLayout, fields: readonly Write[]): Write {
  const body: string[] = [];
  layout.keys.forEach((key, i) => {
    const k = JSON.stringify(key);
    if (layout.optional[i]) {
      body.push(
        `x = v[${k}];`,
        `if (x !== undefined || ${k} in v) {`,
        "t[at++] = 1;",
        `at = f${i}(t, at, x);`,
      );
      body.push("} else t[at++] = 0;");
    } else body.push(`at = f${i}(t, at, v[${k}]);`);
  });
  const source = `${locals(fields.length)}\nreturn function writeObject(t, at, v) {\nlet x;\n${body.join("\n")}\nreturn at;\n};`;
  return new Function("f", source)(fields) as Write;
}

/**
 * Builds the object back: one literal when every key is required (and none is `__proto__`, which
 * a literal would take for the prototype), else key by key in schema order, reading each
 * optional key's presence byte with `presence()`.
 */
export function objectRead(layout: ObjectLayout, fields: readonly Read[], presence: () => number): Read {
  const { keys, optional } = layout;
  let body: string;
  if (!optional.includes(true) && !keys.includes("__proto__"))
    body = `return { ${keys.map((key, i) => `${JSON.stringify(key)}: f${i}()`).join(", ")} };`;
  else {
    const lines = keys.map((key, i) => {
      const set =
        key === "__proto__"
          ? `own(o, ${JSON.stringify(key)}, f${i}());`
          : `o[${JSON.stringify(key)}] = f${i}();`;
      return optional[i] ? `if (p() !== 0) ${set}` : set;
    });
    body = `const o = {};\n${lines.join("\n")}\nreturn o;`;
  }
  const source = `${locals(fields.length)}\nreturn function readObject() {\n${body}\n};`;
  return new Function("f", "p", "own", source)(fields, presence, ownKey) as Read;
}

/** An own `__proto__` key is data, as zod and structured clone keep it, not the prototype. */
export function ownKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
