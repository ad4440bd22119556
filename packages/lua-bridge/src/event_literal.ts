import type { BusEvent } from "@threadbus/core";
import { LuaConversionError, luaLiteral, luaString } from "./lua_literal.js";

/** An event as Lua source, and why its data could not be converted (it then has `data_error`). */
export interface RenderedEvent {
  lua: string;
  error: string | undefined;
}

/** system/kind/path values seen recently, as Lua string literals: most events repeat them. */
const names = new Map<string, string>();
const NAMES_CACHED = 4096;

function luaName(value: string): string {
  let literal = names.get(value);
  if (literal === undefined) {
    literal = luaString(value);
    if (names.size >= NAMES_CACHED) names.clear();
    names.set(value, literal);
  }
  return literal;
}

/**
 * The event as a Lua table constructor `{system=..., kind=..., path=..., data=...}`. Data that
 * cannot become Lua (a function, a cycle, a NaN key) is left out and named in `data_error`.
 */
export function renderEvent(event: BusEvent): RenderedEvent {
  const { system, kind, path, data } = event;
  const head = `{system=${luaName(system)},kind=${luaName(kind)},path=${luaName(path)}`;
  if (data === undefined || data === null) return { lua: `${head}}`, error: undefined };
  try {
    return { lua: `${head},data=${luaLiteral(data)}}`, error: undefined };
  } catch (error) {
    if (!(error instanceof LuaConversionError)) throw error;
    return { lua: `${head},data_error=${luaString(error.message)}}`, error: error.message };
  }
}

/** The event with `data_error = reason` and no data. */
export function renderFailedEvent(system: string, kind: string, path: string, reason: string): string {
  return `{system=${luaName(system)},kind=${luaName(kind)},path=${luaName(path)},data_error=${luaString(reason)}}`;
}
