import { z } from "zod";

/**
 * What a catalogued zod schema looks like to a codec: the subset of zod a bus can check with plain
 * typeof tests and encode with code specialised to it. A schema (or a part of one) outside that
 * subset becomes a `generic` node: zod checks it, and the worker bus encodes it with its generic
 * codec (msgpackr / structured clone). Compiled here once, when the catalogue is defined.
 */
export type Shape =
  | { readonly type: "number"; readonly format: NumberFormat }
  | { readonly type: "boolean" }
  | { readonly type: "string" }
  | { readonly type: "bigint" }
  | { readonly type: "date" }
  /** enum, literal, null, undefined, nan and unions of those: one of a fixed list of values. */
  | { readonly type: "literal"; readonly values: readonly LiteralValue[] }
  | { readonly type: "optional"; readonly inner: Shape }
  | { readonly type: "nullable"; readonly inner: Shape }
  | { readonly type: "default"; readonly inner: Shape; readonly value: () => unknown }
  | {
      readonly type: "object";
      readonly keys: readonly string[];
      readonly fields: readonly Shape[];
      /** Per key: may be absent (the schema's input is optional there). */
      readonly optional: readonly boolean[];
      /** Unknown keys are refused (z.strictObject); otherwise they are stripped, as zod does. */
      readonly strict: boolean;
    }
  | { readonly type: "array"; readonly element: Shape }
  | { readonly type: "tuple"; readonly items: readonly Shape[] }
  | { readonly type: "record"; readonly value: Shape }
  | { readonly type: "generic"; readonly schema: z.ZodType; readonly why: string };

export type LiteralValue = string | number | boolean | bigint | null | undefined;
/** "float": any finite number; the rest are zod's integer formats. */
export type NumberFormat = "float" | "safeint" | "int32" | "uint32";

/** A place in `data` that does not fit its schema, and why. */
export interface ShapeFault {
  /** Keys and indices from the root of `data`. */
  readonly path: (string | number)[];
  readonly message: string;
}

interface ZodInternals {
  _zod: {
    def: { type: string; [key: string]: unknown };
    optin?: "optional" | "defaulted";
  };
}

function def(schema: z.ZodType): ZodInternals["_zod"]["def"] {
  return (schema as unknown as ZodInternals)._zod.def;
}

function generic(schema: z.ZodType, why: string): Shape {
  return { type: "generic", schema, why };
}

/** Number formats a compiled check reproduces; other checks (min, max, ...) are left to "full". */
function numberFormat(schema: z.ZodType): NumberFormat | null {
  const d = def(schema);
  const formats = [d.format, ...((d.checks as z.ZodType[] | undefined) ?? []).map((c) => def(c).format)];
  let format: NumberFormat = "float";
  for (const f of formats) {
    if (f === undefined || f === "float64" || f === "float32") continue;
    if (f === "safeint" || f === "int32" || f === "uint32") format = f;
    else return null;
  }
  return format;
}

/** A refinement or a transform changes what zod accepts or returns: a compiled check would differ. */
function hasCustomCheck(schema: z.ZodType): boolean {
  const checks = (def(schema).checks as z.ZodType[] | undefined) ?? [];
  return checks.some((check) => def(check).check === "custom");
}

function isOptionalIn(schema: z.ZodType): boolean {
  return (schema as unknown as ZodInternals)._zod.optin === "optional";
}

/** The schema takes undefined itself ("optional", or "defaulted": a default inside). */
function takesUndefined(schema: z.ZodType): boolean {
  return (schema as unknown as ZodInternals)._zod.optin !== undefined;
}

/** What undefined becomes under `shape` is undefined (not a default). */
function yieldsUndefined(shape: Shape): boolean {
  switch (shape.type) {
    case "optional":
      return true;
    case "literal":
      return shape.values.includes(undefined);
    case "nullable":
      return yieldsUndefined(shape.inner);
    case "generic": {
      const parsed = shape.schema.safeParse(undefined);
      return parsed.success && parsed.data === undefined;
    }
    default:
      return false;
  }
}

/** Compiles a zod schema into the Shape a codec follows; never throws (unknown parts are generic). */
export function compileShape(schema: z.ZodType): Shape {
  if (hasCustomCheck(schema)) return generic(schema, "a refinement");
  const d = def(schema);
  switch (d.type) {
    case "number": {
      const format = numberFormat(schema);
      return format === null ? generic(schema, `number format`) : { type: "number", format };
    }
    case "boolean":
      return { type: "boolean" };
    case "string":
      // Length and format checks (min, email, ...) are zod's to apply, under validate "full".
      return { type: "string" };
    case "bigint":
      return { type: "bigint" };
    case "date":
      return { type: "date" };
    case "null":
      return { type: "literal", values: [null] };
    case "undefined":
      return { type: "literal", values: [undefined] };
    case "nan":
      return { type: "literal", values: [Number.NaN] };
    case "enum":
      return { type: "literal", values: Object.values(d.entries as Record<string, string | number>) };
    case "literal":
      return { type: "literal", values: d.values as LiteralValue[] };
    case "union": {
      const values: LiteralValue[] = [];
      for (const option of d.options as z.ZodType[]) {
        const inner = compileShape(option);
        if (inner.type !== "literal") return generic(schema, "a union of non-literals");
        values.push(...inner.values);
      }
      return { type: "literal", values };
    }
    case "optional": {
      // zod hands undefined to an inner type that takes it itself (a default inside): so do we.
      const inner = d.innerType as z.ZodType;
      return takesUndefined(inner) ? compileShape(inner) : { type: "optional", inner: compileShape(inner) };
    }
    case "nullable":
      return { type: "nullable", inner: compileShape(d.innerType as z.ZodType) };
    case "default": {
      const inner = d.innerType as z.ZodType;
      const value = () => (schema as unknown as ZodInternals)._zod.def.defaultValue;
      return { type: "default", inner: compileShape(inner), value };
    }
    case "readonly":
      return compileShape(d.innerType as z.ZodType);
    case "object": {
      const catchall = d.catchall as z.ZodType | undefined;
      const strict = catchall !== undefined && def(catchall).type === "never";
      if (catchall !== undefined && !strict) return generic(schema, "an object that keeps unknown keys");
      const shape = d.shape as Record<string, z.ZodType>;
      const keys = Object.keys(shape);
      const fields = keys.map((key) => compileShape(shape[key]!));
      return {
        type: "object",
        keys,
        fields,
        // zod parses an absent key as undefined and leaves the key out only if that gives undefined.
        optional: keys.map((key, i) => isOptionalIn(shape[key]!) && yieldsUndefined(fields[i]!)),
        strict,
      };
    }
    case "array":
      return { type: "array", element: compileShape(d.element as z.ZodType) };
    case "tuple": {
      const items = d.items as z.ZodType[];
      if (d.rest !== null && d.rest !== undefined) return generic(schema, "a tuple with a rest element");
      if (items.some(isOptionalIn)) return generic(schema, "a tuple with optional items");
      return { type: "tuple", items: items.map(compileShape) };
    }
    case "record": {
      if (def(d.keyType as z.ZodType).type !== "string" || hasChecks(d.keyType as z.ZodType))
        return generic(schema, "a record whose keys are not plain strings");
      return { type: "record", value: compileShape(d.valueType as z.ZodType) };
    }
    default:
      return generic(schema, `zod type '${d.type}'`);
  }
}

function hasChecks(schema: z.ZodType): boolean {
  return ((def(schema).checks as unknown[] | undefined) ?? []).length > 0;
}

function fault(message: string): ShapeFault {
  return { path: [], message };
}

function numberFault(format: NumberFormat, value: unknown): ShapeFault | null {
  if (typeof value !== "number" || !Number.isFinite(value)) return fault(`expected a finite number`);
  if (format === "float") return null;
  if (format === "safeint") return Number.isSafeInteger(value) ? null : fault("expected a safe integer");
  if (format === "int32") return (value | 0) === value ? null : fault("expected a 32-bit integer");
  return value >>> 0 === value ? null : fault("expected an unsigned 32-bit integer");
}

function within(path: string | number, inner: ShapeFault | null): ShapeFault | null {
  if (inner !== null) inner.path.unshift(path);
  return inner;
}

/** Same-value equality, as zod's literal check (NaN matches NaN). */
export function literalIndex(values: readonly LiteralValue[], value: unknown): number {
  for (let i = 0; i < values.length; i++) if (Object.is(values[i], value) || values[i] === value) return i;
  return -1;
}

/**
 * The first place where `value` does not fit `shape`, or null: the checks of validate "shape"
 * (types, integer formats, literal values, unknown keys of strict objects; generic parts by zod).
 * Allocates nothing when the value fits.
 */
export function shapeFault(shape: Shape, value: unknown): ShapeFault | null {
  switch (shape.type) {
    case "number":
      return numberFault(shape.format, value);
    case "boolean":
      return typeof value === "boolean" ? null : fault("expected a boolean");
    case "string":
      return typeof value === "string" ? null : fault("expected a string");
    case "bigint":
      return typeof value === "bigint" ? null : fault("expected a bigint");
    case "date":
      return value instanceof Date && !Number.isNaN(value.getTime()) ? null : fault("expected a valid Date");
    case "literal":
      return literalIndex(shape.values, value) >= 0
        ? null
        : fault(`expected one of ${describe(shape.values)}`);
    case "optional":
      return value === undefined ? null : shapeFault(shape.inner, value);
    case "nullable":
      return value === null ? null : shapeFault(shape.inner, value);
    case "default":
      return value === undefined ? null : shapeFault(shape.inner, value);
    case "object": {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return fault("expected an object");
      const record = value as Record<string, unknown>;
      for (let i = 0; i < shape.keys.length; i++) {
        const key = shape.keys[i]!;
        const field = record[key];
        if (field === undefined && shape.optional[i] && !(key in record)) continue;
        const inner = within(key, shapeFault(shape.fields[i]!, field));
        if (inner !== null) return inner;
      }
      if (shape.strict)
        for (const key in record) if (!shape.keys.includes(key)) return fault(`unknown key '${key}'`);
      return null;
    }
    case "array": {
      if (!Array.isArray(value)) return fault("expected an array");
      for (let i = 0; i < value.length; i++) {
        const inner = within(i, shapeFault(shape.element, value[i]));
        if (inner !== null) return inner;
      }
      return null;
    }
    case "tuple": {
      if (!Array.isArray(value) || value.length !== shape.items.length)
        return fault(`expected a tuple of ${shape.items.length}`);
      for (let i = 0; i < value.length; i++) {
        const inner = within(i, shapeFault(shape.items[i]!, value[i]));
        if (inner !== null) return inner;
      }
      return null;
    }
    case "record": {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return fault("expected an object");
      for (const key in value) {
        const inner = within(key, shapeFault(shape.value, (value as Record<string, unknown>)[key]));
        if (inner !== null) return inner;
      }
      return null;
    }
    case "generic": {
      const result = shape.schema.safeParse(value);
      if (result.success) return null;
      const issue = result.error.issues[0];
      return {
        path: (issue?.path ?? []).map((p) => (typeof p === "number" ? p : String(p))),
        message: issue?.message ?? "invalid",
      };
    }
  }
}

function describe(values: readonly LiteralValue[]): string {
  return values.map((v) => (typeof v === "string" ? `'${v}'` : String(v))).join(", ");
}

/**
 * A stable text of a shape, for the catalogue's fingerprint: two threads whose catalogues give
 * the same text encode and decode alike. A generic part is named by its JSON Schema (zod's), or
 * by its zod type where it has none.
 */
export function describeShape(shape: Shape): string {
  switch (shape.type) {
    case "number":
      return shape.format;
    case "literal":
      return `(${shape.values.map((v) => (typeof v === "bigint" ? `${v}n` : (JSON.stringify(v) ?? "undefined"))).join("|")})`;
    case "optional":
    case "nullable":
      return `${shape.type}<${describeShape(shape.inner)}>`;
    case "default":
      return `default<${describeShape(shape.inner)},${safeJson(shape.value())}>`;
    case "object":
      return `{${shape.keys.map((k, i) => `${JSON.stringify(k)}${shape.optional[i] ? "?" : ""}:${describeShape(shape.fields[i]!)}`).join(",")}${shape.strict ? "!" : ""}}`;
    case "array":
      return `${describeShape(shape.element)}[]`;
    case "tuple":
      return `[${shape.items.map(describeShape).join(",")}]`;
    case "record":
      return `record<${describeShape(shape.value)}>`;
    case "generic":
      return `generic<${safeJson(jsonSchema(shape.schema))}>`;
    default:
      return shape.type;
  }
}

function jsonSchema(schema: z.ZodType): unknown {
  try {
    return z.toJSONSchema(schema, { unrepresentable: "any", io: "input" });
  } catch {
    return def(schema).type;
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v)) ?? "undefined";
  } catch {
    return "?";
  }
}
