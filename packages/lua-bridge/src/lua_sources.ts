import { readFileSync } from "node:fs";

/**
 * The Lua half of an engine, as real `.lua` files: `src/lua/*.lua`, copied to `dist/lua/` by the
 * build (`scripts/copy-lua.mjs`). runtime.lua is the entry; it loads the others in order.
 */
export const LUA_MODULES = [
  "runtime",
  "core",
  "errors",
  "channel",
  "convert",
  "guard",
  "feed",
  "events",
  "process",
  "timefmt",
  "timeparse",
  "time",
  "sandbox",
  "scheduler",
] as const;

export type LuaModuleName = (typeof LUA_MODULES)[number];

/** The directory the `.lua` files are read from (next to this module, in `lua/`). */
export const LUA_DIRECTORY = new URL("./lua/", import.meta.url);

let cached: Record<LuaModuleName, string> | null = null;

/** Reads every module once per thread. */
export function luaSources(): Record<LuaModuleName, string> {
  if (cached) return cached;
  const sources = {} as Record<LuaModuleName, string>;
  for (const name of LUA_MODULES) sources[name] = readFileSync(new URL(`${name}.lua`, LUA_DIRECTORY), "utf8");
  cached = sources;
  return sources;
}
