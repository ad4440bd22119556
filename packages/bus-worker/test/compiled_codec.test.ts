import { compileShape } from "@threadbus/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CompiledCodec } from "../dist/compiled_codec.js";

/** A schema with an arbitrary of values it accepts. */
interface Case {
  schema: z.ZodType;
  value: fc.Arbitrary<unknown>;
}

const edgeIntegers = [
  0,
  -0,
  1,
  -1,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 32 - 1,
];
const edgeNumbers = [
  ...edgeIntegers,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MAX_VALUE,
  0.1,
];
const edgeStrings = [
  "",
  "x".repeat(70_000),
  "x".repeat(16),
  "x".repeat(17),
  "é".repeat(16),
  `${"x".repeat(15)}é`,
  `${"x".repeat(40)}\ud800`,
  `${"y".repeat(1000)}日本`,
  "héllo",
  "日本語テキスト",
  "🎉 emoji",
  "\ud800",
  "a\udc00b",
  "\udfff\ud800",
];

/** Every UTF-16 code unit, lone surrogates included (fc's default strings never hold those). */
const anyText = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) }),
  fc.string(),
  fc.constantFrom(...edgeStrings),
);
const keyName = fc.constantFrom("a", "b", "qty", "name", "x.y", "", "ключ");

const leaves: fc.Arbitrary<Case>[] = [
  fc.constant({ schema: z.number(), value: fc.oneof(fc.double(), fc.constantFrom(...edgeNumbers)) }),
  fc.constant({
    schema: z.int(),
    value: fc.oneof(fc.integer(), fc.constantFrom(...edgeIntegers), fc.double()),
  }),
  fc.constant({
    schema: z.int32(),
    value: fc.oneof(fc.integer(), fc.constantFrom(...edgeIntegers)),
  }),
  fc.constant({ schema: z.boolean(), value: fc.boolean() }),
  fc.constant({ schema: z.string(), value: anyText }),
  fc.constant({ schema: z.bigint(), value: fc.bigInt() }),
  fc.constant({
    schema: z.date(),
    value: fc.oneof(fc.date({ noInvalidDate: true }), fc.constant(new Date(Number.NaN))),
  }),
  fc.constant({
    schema: z.enum(["red", "green", "blue"]),
    value: fc.constantFrom("red", "green", "blue", "pink"),
  }),
  fc.constant({ schema: z.literal(["a", 1, true, null]), value: fc.constantFrom("a", 1, true, null, "b") }),
  fc.constant({ schema: z.union([z.literal("x"), z.literal(2)]), value: fc.constantFrom("x", 2, 3) }),
  fc.constant({ schema: z.null(), value: fc.constantFrom(null, undefined) }),
  fc.constant({ schema: z.number().default(7), value: fc.oneof(fc.constant(undefined), fc.integer()) }),
  // Generic parts: zod checks them, the generic codec carries them.
  fc.constant({
    schema: z.map(z.string(), z.number()),
    value: fc.array(fc.tuple(fc.string(), fc.integer())).map((e) => new Map(e)),
  }),
  fc.constant({ schema: z.string().transform((s) => s.length), value: fc.string() }),
];

function wrap(inner: Case): fc.Arbitrary<Case> {
  return fc.constantFrom<Case>(
    { schema: inner.schema.optional(), value: fc.oneof(fc.constant(undefined), inner.value) },
    { schema: inner.schema.nullable(), value: fc.oneof(fc.constant(null), inner.value) },
    { schema: z.array(inner.schema), value: fc.array(inner.value, { maxLength: 4 }) },
    { schema: z.tuple([inner.schema, z.boolean()]), value: fc.tuple(inner.value, fc.boolean()) },
    {
      schema: z.record(z.string(), inner.schema),
      value: fc.dictionary(fc.string(), inner.value, { maxKeys: 3 }),
    },
  );
}

function objectOf(fields: [string, Case][], strict: boolean): Case {
  const shape = Object.fromEntries(fields.map(([key, field]) => [key, field.schema]));
  const schema = strict ? z.strictObject(shape) : z.object(shape);
  const required = fields
    .filter(([, field]) => !field.schema.safeParse(undefined).success)
    .map(([key]) => key);
  const record = fc.record(Object.fromEntries(fields.map(([key, field]) => [key, field.value])), {
    requiredKeys: required,
  });
  // Unknown keys: stripped by z.object (and the codec), refused by z.strictObject (and the codec).
  const value = fc.oneof(
    record,
    record.map((r) => ({ ...r, extra: 1 })),
  );
  return { schema, value };
}

const cases: fc.Arbitrary<Case> = fc.letrec<{ node: Case }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    ...leaves,
    tie("node").chain(wrap),
    fc
      .uniqueArray(fc.tuple(keyName, tie("node")), { minLength: 0, maxLength: 4, selector: ([key]) => key })
      .chain((fields) => fc.boolean().map((strict) => objectOf(fields, strict))),
  ),
})).node;

/**
 * Writes at an odd offset into a buffer of the measured size plus guard bytes (a plain one, or
 * shared memory at an offset into its buffer, as the ring is), then reads it back. The write ends
 * exactly where measure said and touches nothing beyond.
 */
function roundTrip(codec: CompiledCodec, value: unknown, bytes: number, shared = false): unknown {
  const size = bytes + 3 + 16;
  const target = shared ? Buffer.from(new SharedArrayBuffer(size + 8), 8, size) : Buffer.alloc(size);
  target.fill(0xa5);
  const end = codec.write(target, 3, value);
  expect(end - 3).toBe(bytes);
  let touched = -1;
  for (let i = end; i < size && touched < 0; i++) if (target[i] !== 0xa5) touched = i;
  expect(touched, `a byte written past the end (${end})`).toBe(-1);
  return codec.read(target, 3);
}

describe("compiled codecs", () => {
  it("decode(encode(x)) deep-equals zod's parse of x, and the codec accepts exactly what zod accepts", () => {
    fc.assert(
      fc.property(
        cases.chain((c) =>
          fc.tuple(fc.constant(c.schema), fc.oneof({ weight: 4, arbitrary: c.value }, fc.anything())),
        ),
        ([schema, value]) => {
          const codec = new CompiledCodec(compileShape(schema));
          const parsed = schema.safeParse(value);
          const bytes = codec.measure(value);
          expect(bytes >= 0, `zod says ${parsed.success}`).toBe(parsed.success);
          if (parsed.success) {
            expect(roundTrip(codec, value, bytes)).toStrictEqual(parsed.data);
            expect(roundTrip(codec, value, codec.measure(value), true)).toStrictEqual(parsed.data);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("carries every edge value the issue lists", () => {
    const schema = z.object({
      n: z.array(z.number()),
      i: z.array(z.int()),
      s: z.array(z.string()),
      empty: z.object({ list: z.array(z.string()), obj: z.object({}) }),
      missing: z.string().optional(),
      present: z.string().optional(),
    });
    const codec = new CompiledCodec(compileShape(schema));
    const value = {
      n: [-0, 0.5, Number.MAX_VALUE, Number.MIN_VALUE],
      i: [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0],
      s: edgeStrings,
      empty: { list: [], obj: {} },
      present: undefined,
    };
    const decoded = roundTrip(codec, value, codec.measure(value)) as typeof value;
    expect(decoded).toStrictEqual(schema.parse(value));
    expect(Object.is(decoded.n[0], -0)).toBe(true);
    expect("missing" in decoded).toBe(false);
    expect("present" in decoded).toBe(true);
    // zod refuses NaN and ±Infinity for z.number(); so does the codec, and z.nan() carries NaN.
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(new CompiledCodec(compileShape(z.number())).measure(bad)).toBe(-1);
    const nan = new CompiledCodec(compileShape(z.nan()));
    expect(roundTrip(nan, Number.NaN, nan.measure(Number.NaN))).toBeNaN();
  });
});
