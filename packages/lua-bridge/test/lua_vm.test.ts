import { describe, expect, it } from "vitest";
import { createLuaVm } from "../dist/lua_vm.js";

describe("the engine's Lua VM", () => {
  it("takes the direct path on this wasmoon (raw exports, our allocator), not the slow fallback", async () => {
    const vm = await createLuaVm();
    expect(vm.direct).toBe(true);
    vm.close();
  });

  it("moves strings both ways intact: UTF-8, long strings and embedded NULs", async () => {
    const vm = await createLuaVm();
    const text = "é€😀\u0000x";
    vm.lua.global.set("s", text);
    expect(vm.lua.doStringSync("return #s")).toBe(11);
    expect(vm.lua.doStringSync("return s")).toBe(text);
    const long = "ab€".repeat(50_000);
    vm.lua.global.set("long", long);
    expect(vm.lua.doStringSync("return #long")).toBe(250_000);
    expect(vm.lua.doStringSync("return long")).toBe(long);
    expect(vm.lua.doStringSync(`return ("€"):rep(3) .. "${"z".repeat(2000)}"`)).toBe(
      `€€€${"z".repeat(2000)}`,
    );
    vm.close();
  });

  it("counts what Lua allocates and frees, and refuses allocations past the limit", async () => {
    const vm = await createLuaVm();
    const before = vm.memoryUsed();
    vm.lua.doStringSync("t = {} for i = 1, 10000 do t[i] = { i } end");
    const grown = vm.memoryUsed();
    expect(grown - before).toBeGreaterThan(10_000 * 40);
    vm.lua.doStringSync("t = nil collectgarbage('collect')");
    expect(vm.memoryUsed()).toBeLessThan(grown - 10_000 * 40);
    vm.setMemoryMax(vm.memoryUsed() + (1 << 20));
    const result = vm.lua.doStringSync(
      "local ok, err = pcall(function() local x = {} for i = 1, 1e7 do x[i] = i end end) return err",
    );
    expect(result).toBe("not enough memory");
    vm.setMemoryMax(undefined);
    expect(vm.lua.doStringSync("local x = {} for i = 1, 1e5 do x[i] = i end return #x")).toBe(100_000);
    vm.close();
  });
});
