export * from "./errors.js";
export {
  LuaHost,
  type LuaHostStats,
  type LuaProcess,
  type LuaProcessStats,
  type SpawnOptions,
} from "./host.js";
export { LuaConversionError, luaLiteral, luaString } from "./lua_literal.js";
export type { LuaHostOptions, LuaProcessInfo, LuaSandboxAllow } from "./options.js";
