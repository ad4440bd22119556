import { afterEach, describe, expect, it } from "vitest";
import { LuaConversionError, luaLiteral, luaString } from "../dist/index.js";
import { closeAll, collect, harness } from "./helpers.js";

afterEach(closeAll);

describe("data conversion JS -> Lua", () => {
  it("turns objects, arrays, numbers, strings, booleans and null into Lua values", async () => {
    const { bus, host } = await harness();
    const proc = host.spawn(`
      local e = assert(events.subscribe("conv")):receive()
      local d = e.data
      return {
        name = d.name, n = d.n, isInt = math.type(d.n), f = d.f, isFloat = math.type(d.f),
        yes = d.yes, no = d.no, missing = d.missing == nil, len = #d.list, first = d.list[1],
        third = d.list[3], deep = d.nested.a.b[2], quote = d.quote, unicode = d.unicode,
        ulen = #d.unicode, control = d.control, clen = #d.control,
      }
    `);
    await host.settled();
    bus.send({
      system: "conv",
      kind: "k",
      path: "",
      data: {
        name: "x",
        n: 42,
        f: 1.25,
        yes: true,
        no: false,
        missing: null,
        list: [1, "two", 3],
        nested: { a: { b: [10, 20] } },
        quote: 'say "hi" \\ bye\n',
        unicode: "é€😀",
        control: "a\u0000b\u0001",
      },
    });
    await expect(proc.exited).resolves.toEqual({
      name: "x",
      n: 42,
      isInt: "integer",
      f: 1.25,
      isFloat: "float",
      yes: true,
      no: false,
      missing: true,
      len: 3,
      first: 1,
      third: 3,
      deep: 20,
      quote: 'say "hi" \\ bye\n',
      unicode: "é€😀",
      ulen: 9,
      control: "a\u0000b\u0001",
      clen: 4,
    });
  });

  it("delivers an event whose data cannot become Lua with data_error instead, and counts it", async () => {
    const { bus, host } = await harness();
    const proc = host.spawn(`
      local e = assert(events.subscribe("conv")):receive()
      return { data = e.data == nil, err = e.data_error }
    `);
    await host.settled();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    bus.send({ system: "conv", kind: "k", path: "", data: cyclic });
    await expect(proc.exited).resolves.toEqual({
      data: true,
      err: "data.self: a cyclic structure cannot be converted to Lua",
    });
    expect(host.stats().unconvertible).toBe(1);
  });

  it("luaLiteral renders special numbers, bigints, dates, bytes, Maps and Sets, and refuses functions", () => {
    expect(luaLiteral([Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 60, 10n])).toBe(
      "{(0/0),(1/0),-0.0,1.152921504606847e+18,10}",
    );
    expect(luaLiteral(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(luaLiteral(new Uint8Array([0, 255]))).toBe('"\\0\\255"');
    expect(luaLiteral(new Map([["k", 1]]))).toBe('{["k"]=1}');
    expect(luaLiteral(new Set(["a"]))).toBe('{"a"}');
    expect(() => luaLiteral({ f: () => 1 })).toThrow(LuaConversionError);
    expect(() => luaLiteral({ f: () => 1 })).toThrow("data.f: a function cannot be converted to Lua");
    let deep: unknown = 1;
    for (let i = 0; i < 150; i++) deep = [deep];
    expect(() => luaLiteral(deep)).toThrow(/nested deeper than 100 levels/);
    expect(luaString("a\u0001\\u0001")).toBe('"a\\u{0001}\\\\u0001"');
  });
});

describe("data conversion Lua -> JS", () => {
  it("turns tables into objects or arrays and keeps integers, floats, strings and booleans", async () => {
    const { bus, host } = await harness();
    const received = await collect(bus, "out", "k", 1);
    host.spawn(`
      assert(events.send("out", "k", "p", {
        list = { 1, 2.5, "three", true }, map = { a = 1, [2] = "two" }, empty = {},
        text = 'quote " back \\\\ nl \\n tab \\t é', big = math.maxinteger, inf = math.huge,
      }))
    `);
    const [event] = await received.events();
    expect(event!.data).toEqual({
      list: [1, 2.5, "three", true],
      map: { a: 1, "2": "two" },
      empty: {},
      text: 'quote " back \\ nl \n tab \t é',
      big: 2 ** 63,
      inf: Number.POSITIVE_INFINITY,
    });
  });

  it("refuses functions, cyclic tables, channels, NaN and boolean keys with nil and an error naming the place", async () => {
    const { host } = await harness();
    const proc = host.spawn(`
      local cyclic = {}; cyclic.me = cyclic
      local out = {}
      local function try(v) local ok, err = events.send("s", "k", "p", v); out[#out + 1] = tostring(ok) .. " " .. err end
      try({ f = print })
      try(cyclic)
      try({ list = { 1, channel.new(1) } })
      try({ x = 0/0 })
      try({ [true] = 1 })
      try(coroutine.create(print))
      local shared = { 1 }
      assert(events.send("s", "k", "p", { a = shared, b = shared }))
      return out
    `);
    await expect(proc.exited).resolves.toEqual([
      "nil events.send: data.f: a function cannot be converted",
      "nil events.send: data.me: a cyclic table cannot be converted",
      "nil events.send: data.list[2]: a channel cannot be converted",
      "nil events.send: data.x: NaN cannot be converted",
      "nil events.send: data: a table key of type boolean cannot be converted (keys must be strings or numbers)",
      "nil events.send: data: a thread cannot be converted",
    ]);
  });

  it("rejects exited when the return value cannot be converted", async () => {
    const { host } = await harness();
    const proc = host.spawn(`return { f = print }`);
    await expect(proc.exited).rejects.toMatchObject({
      code: "LUA_ERROR",
      luaMessage: "return value: data.f: a function cannot be converted",
    });
  });
});
