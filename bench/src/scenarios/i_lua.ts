import type { CaseRecorder, Scenario } from "../scenario.js";

// A variable specifier keeps tsc from resolving the package while it is not built.
const LUA_PACKAGE = "@threadbus/lua";

export const luaScenario: Scenario = {
  id: "i-lua",
  title: "delivery to Lua processes",
  measures: "Events/s delivered from the bus to a Lua 5.4 process (wasmoon) through LuaHost's relay.",
  async unavailable() {
    let module: { LuaHost?: unknown };
    try {
      module = (await import(LUA_PACKAGE)) as { LuaHost?: unknown };
    } catch (error) {
      return `${LUA_PACKAGE} could not be loaded (${(error as Error).message.split("\n")[0]})`;
    }
    if (typeof module.LuaHost !== "function") return `${LUA_PACKAGE} does not export LuaHost yet`;
    return "LuaHost exists but this scenario is not written yet";
  },
  async run(_recorder: CaseRecorder) {},
};
