import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LuaFactory } from "wasmoon";
import { LUA_MODULES } from "../dist/index.js";

const SOURCE_DIR = fileURLToPath(new URL("../src/lua/", import.meta.url));
const DIST_DIR = fileURLToPath(new URL("../dist/lua/", import.meta.url));

function source(name: string, dir = SOURCE_DIR): string {
  return readFileSync(`${dir}${name}.lua`, "utf8");
}

async function bareEngine() {
  return new LuaFactory().createEngine({ openStandardLibs: true, injectObjects: false, enableProxy: false });
}

/** The runtime booted on a bare VM (no thread, no bus) with host functions `host` over stubs. */
async function bootRuntime(host: Record<string, unknown>) {
  const lua = await bareEngine();
  const noop = () => undefined;
  const stubs: Record<string, unknown> = {
    poll: noop,
    pull: noop,
    retake: () => "",
    bad: () => "0,nil",
    subscribe: () => 1,
    unsubscribe: noop,
    send: noop,
    post: () => "no running process",
    register: () => 0,
    exit: noop,
    print: noop,
    sleep: () => 1,
    now: () => 0,
    enter: noop,
    leave: noop,
    lost: noop,
    ...host,
  };
  const sources: Record<string, string> = {};
  for (const name of LUA_MODULES) sources[name] = source(name);
  lua.global.set("__threadbus", {
    host: stubs,
    config: { instructionBudget: 1_000_000, timeSliceMs: 1000, io: false, os: false, debug: false },
    sources,
  });
  const runtime = lua.doStringSync(
    `local boot = __threadbus; __threadbus = nil; return assert(load(boot.sources.runtime, "@runtime.lua", "t"))(boot)`,
  ) as { run(max: number): number };
  return { lua, runtime };
}

describe("the Lua runtime files", () => {
  it("lists every .lua file of src/lua as a module, and the build copies them all to dist/lua", () => {
    const files = readdirSync(SOURCE_DIR)
      .filter((f) => f.endsWith(".lua"))
      .map((f) => f.slice(0, -4))
      .sort();
    expect(files).toEqual([...LUA_MODULES].sort());
    for (const name of LUA_MODULES) expect(source(name, DIST_DIR)).toBe(source(name));
  });

  it("compiles each file with Lua's own parser (a syntax check)", async () => {
    const lua = await bareEngine();
    for (const name of LUA_MODULES) {
      lua.global.set("chunk_source", source(name));
      const error = lua.doStringSync(
        `local f, err = load(chunk_source, "@${name}.lua", "t"); return f and "" or err`,
      );
      expect(error, `${name}.lua`).toBe("");
    }
    lua.global.close();
  });

  it("boots in a strict environment (no undefined or assigned globals) and runs a process", async () => {
    const exits: unknown[][] = [];
    let commands: string | undefined = `S(1,"probe","return 6 * 7")`;
    const { lua, runtime } = await bootRuntime({
      poll: () => {
        const c = commands;
        commands = undefined;
        return c;
      },
      exit: (...args: unknown[]) => exits.push(args),
    });
    expect(runtime.run(10)).toBe(0);
    expect(exits).toEqual([[1, "ok", "", "42"]]);
    lua.global.close();
  });

  it("rebuilds a batch that fails in Lua event by event, and JS replaces what still fails with data_error", async () => {
    const exits: unknown[][] = [];
    const bad: unknown[][] = [];
    let commands: string | undefined = `S(1,"reader",${JSON.stringify(`
      local sub = assert(events.subscribe("s"))
      local a, b = sub:receive(), sub:receive()
      return a.path .. "," .. b.path .. "," .. b.data_error
    `)})`;
    const { lua, runtime } = await bootRuntime({
      poll: () => {
        const c = commands;
        commands = undefined;
        return c;
      },
      pull: () => `return {1,{system="s",kind="k",path="a"},1,{system="s",kind="k",path=}`,
      retake: () => `1,{system="s",kind="k",path="a"}\n1,{system="s",kind="k",path=}`,
      bad: (...args: unknown[]) => {
        bad.push(args);
        return `1,{system="s",kind="k",path="b",data_error="could not load"}`;
      },
      exit: (...args: unknown[]) => exits.push(args),
    });
    runtime.run(10);
    expect(bad).toEqual([[1, 2, expect.stringContaining("unexpected symbol")]]);
    expect(exits).toEqual([[1, "ok", "", '"a,b,could not load"']]);
    lua.global.close();
  });
});
