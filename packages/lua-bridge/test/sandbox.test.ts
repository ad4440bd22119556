import { afterEach, describe, expect, it } from "vitest";
import { closeAll, harness } from "./helpers.js";

afterEach(closeAll);

describe("sandbox: untrusted by default", () => {
  it("has no io, debug, package, dofile or string.dump, only os.time/os.clock, and require gives the runtime's modules only", async () => {
    const { host } = await harness();
    const proc = host.spawn(`
      local out = {}
      for _, name in ipairs({ "io", "debug", "require", "package", "dofile", "loadfile" }) do
        out[#out + 1] = name .. "=" .. type(_G[name])
      end
      local os_keys = {}
      for k in pairs(os) do os_keys[#os_keys + 1] = k end
      table.sort(os_keys)
      out[#out + 1] = "os=" .. table.concat(os_keys, ",")
      out[#out + 1] = "dump=" .. type(string.dump)
      out[#out + 1] = "clock=" .. math.type(os.time())
      out[#out + 1] = "events=" .. tostring(require("events") == events and require("time") == time)
      out[#out + 1] = "io=" .. tostring(pcall(require, "io")) .. "," .. tostring(pcall(require, "os"))
      return table.concat(out, " ")
    `);
    await expect(proc.exited).resolves.toBe(
      "io=nil debug=nil require=function package=nil dofile=nil loadfile=nil os=clock,time dump=nil clock=integer events=true io=false,false",
    );
  });

  it("refuses binary chunks in load, __gc metamethods and collectgarbage('stop')", async () => {
    const { host } = await harness();
    const proc = host.spawn(`
      local f, err = load("\\27Lua", "x", "b")
      assert(f == nil)
      local ok1, err1 = pcall(setmetatable, {}, { __gc = function() end })
      local ok2, err2 = pcall(collectgarbage, "stop")
      local text = load("return 1 + 1")
      return table.concat({ err, tostring(ok1), err1, tostring(ok2), err2, tostring(text()) }, " | ")
    `);
    await expect(proc.exited).resolves.toBe(
      'load: binary chunks are not allowed in the sandbox (mode must be "t") | false | ' +
        "setmetatable: __gc metamethods are not allowed in the sandbox | false | " +
        'collectgarbage: option "stop" is not allowed in the sandbox | 2',
    );
  });

  it("keeps processes apart: globals and library tables are per process, the string metatable is hidden", async () => {
    const { host } = await harness();
    const first = host.spawn(`shared = "mine"; string.upper = nil; return getmetatable("")`);
    await expect(first.exited).resolves.toBe(false);
    const second = host.spawn(`return tostring(shared) .. " " .. string.upper("ok")`);
    await expect(second.exited).resolves.toBe("nil OK");
  });

  it("gives io, os and debug to scripts only when the host allows them", async () => {
    const { host } = await harness({ allow: { io: true, os: true, debug: true } });
    const proc = host.spawn(`return type(io.open) .. " " .. type(os.getenv) .. " " .. type(debug.traceback)`);
    await expect(proc.exited).resolves.toBe("function function function");
  });
});

describe("sandbox: limits", () => {
  it("interrupts an endless loop after the instruction budget with LUA_INSTRUCTION_BUDGET; others go on", async () => {
    const { host } = await harness({ instructionBudget: 200_000 });
    const looping = host.spawn(`local n = 0 while true do n = n + 1 end`, { name: "spinner" });
    const other = host.spawn(`time.sleep("1ms"); return "still here"`);
    await expect(looping.exited).rejects.toMatchObject({
      code: "LUA_INSTRUCTION_BUDGET",
      budget: 200_000,
      processName: "spinner",
    });
    await expect(other.exited).resolves.toBe("still here");
  });

  it("does not let pcall swallow the budget error", async () => {
    const { host } = await harness({ instructionBudget: 100_000 });
    const proc = host.spawn(`
      while true do
        pcall(function() while true do end end)
        xpcall(function() while true do end end, function() return "handled" end)
      end
    `);
    await expect(proc.exited).rejects.toMatchObject({ code: "LUA_INSTRUCTION_BUDGET" });
  });

  it("counts the budget per resume: a long computation that yields now and then is never stopped", async () => {
    const { host } = await harness({ instructionBudget: 100_000 });
    const proc = host.spawn(`
      local n = 0
      for round = 1, 20 do
        for i = 1, 10000 do n = n + 1 end
        time.sleep(0)
      end
      return n
    `);
    await expect(proc.exited).resolves.toBe(200_000);
  });

  it("stops unbounded allocation at the memory limit with LUA_MEMORY_LIMIT; the host goes on", async () => {
    // Near the limit every allocation runs a full collection first, so filling 8 MiB takes longer
    // than the default 100 ms time slice: give the hog enough time to reach the memory limit.
    const { host } = await harness({
      memoryLimitBytes: 8 << 20,
      instructionBudget: 100_000_000,
      timeSliceMs: 20_000,
      watchdogMs: 40_000,
    });
    const hog = host.spawn(`local t = {} local i = 0 while true do i = i + 1 t[i] = { i, tostring(i) } end`, {
      name: "hog",
    });
    await expect(hog.exited).rejects.toMatchObject({ code: "LUA_MEMORY_LIMIT", limitBytes: 8 << 20 });
    const bigString = host.spawn(`return string.rep("x", 64 * 1024 * 1024)`);
    await expect(bigString.exited).rejects.toMatchObject({ code: "LUA_MEMORY_LIMIT" });
    const after = host.spawn(`local t = {} for i = 1, 1000 do t[i] = i end return #t`);
    await expect(after.exited).resolves.toBe(1000);
    expect(host.stats().memoryBytes).toBeLessThan(8 << 20);
  });
});
