import type { BusEvent } from "@threadbus/core";

/**
 * Events an engine's PortBus builds from a bridge batch carry no data: the bridge rendered each
 * as Lua source on the host's thread (the in-thread bus lives there, and only strings cross), and
 * the relay hands that source to Lua as is.
 */
export const kLua = Symbol("threadbus.lua");
/** Why the event's data could not become Lua (the source then has `data_error`). */
export const kLuaError = Symbol("threadbus.luaError");

export interface PrerenderedEvent extends BusEvent {
  [kLua]?: string;
  [kLuaError]?: string;
}
