export * from "./errors.js";
export { LuaHost, type LuaProcess } from "./host.js";
export { LuaConversionError, luaLiteral, luaString } from "./lua_literal.js";
export { LUA_DIRECTORY, LUA_MODULES } from "./lua_sources.js";
export type {
  LuaHostOptions,
  LuaMatching,
  LuaProcessInfo,
  LuaSandboxAllow,
  SpawnOptions,
} from "./options.js";
export type { LuaEngineStats, LuaHostStats, LuaProcessStats } from "./stats.js";
export {
  braceExpansions,
  MAX_GLOB_EXPANSIONS,
  MAX_GLOB_LENGTH,
  MAX_GLOB_WILDCARDS,
  MAX_PATTERN_LENGTH,
} from "./subscription_limits.js";
