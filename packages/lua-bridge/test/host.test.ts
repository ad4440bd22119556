import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bus } from "@threadbus/core";
import { afterEach, describe, expect, it } from "vitest";
import { LuaHost, LuaScriptError } from "../dist/index.js";
import { closeAll, harness } from "./helpers.js";

afterEach(closeAll);

describe("LuaHost options", () => {
  it("validates every option up front with INVALID_OPTIONS naming it", () => {
    const bus = new Bus();
    const bad: [unknown, string][] = [
      [undefined, "options"],
      [{}, "options.bus"],
      [{ bus: {} }, "options.bus"],
      [{ bus, print: 5 }, "options.print"],
      [{ bus, logger: {} }, "options.logger"],
      [{ bus, instructionBudget: 10 }, "options.instructionBudget"],
      [{ bus, instructionBudget: 1.5e6 + 0.5 }, "options.instructionBudget"],
      [{ bus, memoryLimitBytes: 1024 }, "options.memoryLimitBytes"],
      [{ bus, batchSize: 0 }, "options.batchSize"],
      [{ bus, relayBufferSize: -1 }, "options.relayBufferSize"],
      [{ bus, allow: { network: true } }, "options.allow.network"],
      [{ bus, allow: { io: "yes" } }, "options.allow.io"],
      [{ bus, matching: "glob" }, "options.matching"],
    ];
    for (const [options, option] of bad) {
      expect(() => new LuaHost(options as never), option).toThrow(
        expect.objectContaining({ code: "INVALID_OPTIONS", option }),
      );
    }
  });

  it("refuses a misspelled option with a did-you-mean suggestion, in each options object", async () => {
    const bus = new Bus();
    const typos: [() => unknown, string, string][] = [
      [() => new LuaHost({ bus, engins: 4 } as never), "options.engins", "engines"],
      [() => new LuaHost({ bus, queueOverflw: "block" } as never), "options.queueOverflw", "queueOverflow"],
      [() => new LuaHost({ bus, allow: { bytcode: true } } as never), "options.allow.bytcode", "bytecode"],
    ];
    const { host } = await harness();
    typos.push([() => host.spawn("", { nam: "x" } as never), "options.nam", "name"]);
    typos.push([() => host.spawn("", { engin: 0 } as never), "options.engin", "engine"]);
    for (const [make, option, guess] of typos) {
      let thrown: unknown;
      try {
        make();
      } catch (error) {
        thrown = error;
      }
      expect(thrown, option).toMatchObject({ code: "INVALID_OPTIONS", option });
      expect((thrown as Error).message, option).toContain(`did you mean '${guess}'?`);
    }
  });

  it("validates spawn arguments", async () => {
    const { host } = await harness();
    expect(() => host.spawn(5 as never)).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS", option: "source" }),
    );
    expect(() => host.spawn("", { name: "" })).toThrow(expect.objectContaining({ option: "options.name" }));
    expect(() => host.spawn("", { name: "a\nb" })).toThrow(
      expect.objectContaining({ option: "options.name" }),
    );
    expect(() => host.spawn("", { args: 5 as never })).toThrow(
      expect.objectContaining({ option: "options.args" }),
    );
    expect(() => host.spawn("", { args: [() => 1] })).toThrow(
      expect.objectContaining({ option: "options.args" }),
    );
  });
});

describe("process lifecycle", () => {
  it("rejects exited with a LuaScriptError carrying the script's line number and traceback", async () => {
    const { host } = await harness();
    const proc = host.spawn("local a = 1\nlocal b = 2\nerror('broken on purpose')\n", { name: "worker" });
    const error = await proc.exited.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LuaScriptError);
    expect(error).toMatchObject({
      code: "LUA_ERROR",
      chunk: "worker",
      line: 3,
      luaMessage: "worker:3: broken on purpose",
      processName: "worker",
    });
    expect((error as LuaScriptError).luaTraceback).toContain("stack traceback:");
  });

  it("reports compile errors with their line", async () => {
    const { host } = await harness();
    const proc = host.spawn("local ok = 1\n\nlocal = 5", { name: "syntax" });
    await expect(proc.exited).rejects.toMatchObject({ code: "LUA_ERROR", line: 3, chunk: "syntax" });
  });

  it("logs failures of processes spawned from Lua, since nobody awaits them", async () => {
    const { host, logged } = await harness();
    const parent = host.spawn(`assert(process.spawn_source("error('child failed')", "child")); return "ok"`);
    await expect(parent.exited).resolves.toBe("ok");
    await host.settled();
    expect(logged).toEqual([expect.stringContaining("child:1: child failed")]);
  });

  it("spawnFile runs a file, named after it", async () => {
    const { host, lines } = await harness();
    const dir = await mkdtemp(join(tmpdir(), "threadbus-lua-"));
    const file = join(dir, "hello.lua");
    await writeFile(file, 'print("hello from " .. process.name())\nreturn 7\n');
    const proc = await host.spawnFile(file);
    expect(proc.name).toBe("hello");
    await expect(proc.exited).resolves.toBe(7);
    expect(lines).toEqual(["hello from hello"]);
  });

  it("close() ends waiting processes with LUA_HOST_CLOSED, is idempotent, and refuses later spawns", async () => {
    const { host } = await harness();
    const waiting = host.spawn(`process.inbox():receive()`);
    await host.settled();
    await Promise.all([host.close(), host.close()]);
    await expect(waiting.exited).rejects.toMatchObject({ code: "LUA_HOST_CLOSED" });
    await expect(host.spawn("return 1").exited).rejects.toMatchObject({ code: "LUA_HOST_CLOSED" });
    expect(host.closed).toBe(true);
  });

  it("stress: 200 processes exchanging messages in a ring all finish", async () => {
    const { host } = await harness();
    const count = 200;
    const procs = [];
    for (let i = 0; i < count; i++) {
      procs.push(
        host.spawn(`
          local me = process.pid()
          local first = me - ${i}
          local next_pid = first + ((${i} + 1) % ${count})
          local inbox = process.inbox()
          local total = 0
          -- The last one spawned starts the token: every pid is handed out by then.
          local starter = ${i} == ${count - 1}
          if starter then assert(process.send(next_pid, "token", 0)) end
          for round = 1, 5 do
            local msg = inbox:receive()
            total = msg[1] + 1
            if not (starter and round == 5) then assert(process.send(next_pid, "token", total)) end
          end
          return total
        `),
      );
    }
    const results = await Promise.all(procs.map((p) => p.exited));
    expect(results[count - 1]).toBe(count * 5);
    expect(host.stats().processes).toBe(0);
  });
});
