import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Bus } from "@threadbus/core";
import { afterEach, describe, expect, it } from "vitest";
import { LuaHost } from "../dist/index.js";
import { closeAll, collect, harness } from "./helpers.js";

afterEach(closeAll);

describe("engines", () => {
  it("validates the new options up front with INVALID_OPTIONS naming them", () => {
    const bus = new Bus();
    const bad: [unknown, string][] = [
      [{ bus, engines: 0 }, "options.engines"],
      [{ bus, engines: 1.5 }, "options.engines"],
      [{ bus, timeSliceMs: 0 }, "options.timeSliceMs"],
      [{ bus, timeSliceMs: 100, watchdogMs: 150 }, "options.watchdogMs"],
      [{ bus, queueSize: 0 }, "options.queueSize"],
      [{ bus, queueOverflow: "drop" }, "options.queueOverflow"],
    ];
    for (const [options, option] of bad) {
      expect(() => new LuaHost(options as never), option).toThrow(
        expect.objectContaining({ code: "INVALID_OPTIONS", option }),
      );
    }
  });

  it("runs Lua off the caller's thread: a busy script leaves the caller's event loop free", async () => {
    const { host } = await harness({
      instructionBudget: 2 ** 31 - 1,
      timeSliceMs: 10_000,
      watchdogMs: 20_000,
    });
    const busy = host.spawn(`local t = os.clock() while os.clock() - t < 0.3 do end return "done"`);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await expect(busy.exited).resolves.toBe("done");
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(10);
  });

  it("spreads processes over engines (fewest first), or puts one where spawn says", async () => {
    const { host } = await harness({ engines: 3 });
    const placed = [0, 1, 2, 3].map(() => host.spawn(`process.inbox():receive()`).engine);
    expect(placed).toEqual([0, 1, 2, 0]);
    expect(host.spawn(`process.inbox():receive()`, { engine: 2 }).engine).toBe(2);
    expect(() => host.spawn("", { engine: 3 })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS", option: "options.engine" }),
    );
    await host.settled();
    expect(host.stats().engines.map((e) => e.processes)).toEqual([2, 1, 2]);
  });

  it("a child spawned from Lua runs on its parent's engine", async () => {
    const { host } = await harness({ engines: 2 });
    const parent = host.spawn(`return process.spawn_source("process.inbox():receive()", "kid")`, {
      engine: 1,
    });
    const child = Number(await parent.exited);
    await host.settled();
    expect(host.stats().perProcess.find((p) => p.pid === child)).toMatchObject({ name: "kid", engine: 1 });
  });

  it("a bus event reaches the processes of every engine, and events sent from one engine reach the others", async () => {
    const { bus, host } = await harness({ engines: 2 });
    const answers = await collect(bus, "pong", "k", 2);
    for (const engine of [0, 1]) {
      host.spawn(
        `local e = assert(events.subscribe("ping")):receive()
         assert(events.send("pong", "k", "${engine}", { got = e.path }))`,
        { engine },
      );
    }
    const listener = host.spawn(`return assert(events.subscribe("from.lua")):receive().data.n`, {
      engine: 0,
    });
    await host.settled();
    bus.send({ system: "ping", kind: "k", path: "p1" });
    const got = await answers.events();
    expect(got.map((e) => e.path).sort()).toEqual(["0", "1"]);
    expect(got.every((e) => (e.data as { got: string }).got === "p1")).toBe(true);
    host.spawn(`assert(events.send("from.lua", "k", "p", { n = 7 }))`, { engine: 1 });
    await expect(listener.exited).resolves.toBe(7);
  });

  it("process.send between engines copies the message (nil holes kept); channels cannot cross", async () => {
    const { host, lines } = await harness({ engines: 2 });
    const receiver = host.spawn(
      `local m = process.listen("data", { message = true }):receive()
       return { from = m:from(), topic = m:topic(), n = m.n, a = m[1], c = m[3], nested = m[4].x[2] }`,
      { engine: 0 },
    );
    await host.settled();
    const sender = host.spawn(
      `print(process.send(${receiver.pid}, "data", "one", nil, 3, { x = { 1, 2 } }))
       print(process.send(${receiver.pid}, "data", channel.new(1)))
       return process.pid()`,
      { engine: 1 },
    );
    const senderPid = await sender.exited;
    await expect(receiver.exited).resolves.toEqual({
      from: senderPid,
      topic: "data",
      n: 4,
      a: "one",
      c: 3,
      nested: 2,
    });
    expect(lines).toEqual([
      "true",
      `nil\tprocess.send: process ${receiver.pid} is not running on this engine (yet), so the message is copied, and args[1]: a channel cannot be converted`,
    ]);
  });

  it("a message to a process that ended on another engine is refused", async () => {
    const { host } = await harness({ engines: 2 });
    const gone = host.spawn(`return 1`, { engine: 0 });
    await gone.exited;
    const sender = host.spawn(`local ok, err = process.send(${gone.pid}, "hello") return err:message()`, {
      engine: 1,
    });
    await expect(sender.exited).resolves.toBe(`process.send: process ${gone.pid} has exited`);
    await host.settled();
    expect(host.stats().messagesLost).toBe(0);
  });

  it("with an in-thread bus, only events of systems some process subscribes to reach an engine", async () => {
    const { bus, host } = await harness({ engines: 2 });
    const orders = host.spawn(`return assert(events.subscribe("orders.*")):receive().path`, { engine: 1 });
    await host.settled();
    for (let n = 0; n < 100; n++) bus.send({ system: "noise", kind: "k", path: String(n) });
    bus.send({ system: "orders.eu", kind: "created", path: "o/1" });
    await expect(orders.exited).resolves.toBe("o/1");
    await host.settled();
    expect(host.stats().routed).toBe(1);
    // A process that subscribes after the noise sees only what is sent after it subscribed.
    const late = host.spawn(`return assert(events.subscribe("noise")):receive().path`, { engine: 0 });
    await host.settled();
    bus.send({ system: "noise", kind: "k", path: "after" });
    await expect(late.exited).resolves.toBe("after");
  });

  it("keeps a program alive while a process runs or a call waits on an engine, and lets it exit when idle", async () => {
    const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const core = fileURLToPath(new URL("../node_modules/@threadbus/core/dist/index.js", import.meta.url));
    // Never closed on purpose: an idle host must not hold the program (exit code 13 = a pending await).
    const script = `
      const { Bus } = await import(${JSON.stringify(core)});
      const { LuaHost } = await import(${JSON.stringify(dist)});
      const bus = new Bus();
      const host = new LuaHost({ bus });
      await host.settled();
      const proc = host.spawn("time.sleep('50ms') return 'slept'");
      console.log(await proc.exited);
      await host.settled();
      console.log(host.stats().processes);
    `;
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      timeout: 15_000,
    });
    expect(stdout.trim().split("\n")).toEqual(["slept", "0"]);
  });

  it("stress: 120 processes on 4 engines pass a token around a ring, every hop to another engine", async () => {
    const { host } = await harness({ engines: 4 });
    const count = 120;
    const rounds = 5;
    const procs = [];
    for (let i = 0; i < count; i++) {
      procs.push(
        host.spawn(`
          local me = process.pid()
          local first = me - ${i}
          local next_pid = first + ((${i} + 1) % ${count})
          local inbox = process.inbox()
          local last = 0
          -- The last one spawned starts the token: every pid is handed out by then.
          local starter = ${i} == ${count - 1}
          if starter then assert(process.send(next_pid, "token", 0, { hops = {} })) end
          for round = 1, ${rounds} do
            local msg = inbox:receive()
            last = msg[1] + 1
            if not (starter and round == ${rounds}) then assert(process.send(next_pid, "token", last, msg[2])) end
          end
          return last
        `),
      );
    }
    expect(new Set(procs.map((p) => p.engine)).size).toBe(4);
    const results = await Promise.all(procs.map((p) => p.exited));
    expect(results[count - 1]).toBe(count * rounds);
    expect(results[count - 2]).toBe(count * rounds - 1);
    expect(host.stats()).toMatchObject({ processes: 0, messagesLost: 0 });
  });
});
