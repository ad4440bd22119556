import { Bus } from "@threadbus/core";
import { LuaFactory } from "wasmoon";
import type { CaseRecorder } from "../scenario.js";
import { nowNs } from "../stats.js";

type LuaHostClass = typeof import("@threadbus/lua")["LuaHost"];
type LuaHost = InstanceType<LuaHostClass>;

/**
 * Receives `count` messages on its inbox in order; returns the seconds from the first to the
 * last, timed in Lua so that spawning and exiting are not part of the figure.
 */
function receiver(count: number): string {
  return `
    local inbox = process.inbox()
    local started
    for i = 1, ${count} do
      local msg = inbox:receive()
      if i == 1 then started = time.now() end
      if msg[1] ~= i then error("out of order: " .. tostring(msg[1]) .. " at " .. i) end
    end
    return time.now():sub(started):seconds()`;
}

/** Sends 1..count to pid; yields every 256 so a resume stays far inside the instruction budget. */
function sender(pid: number, count: number): string {
  return `
    for i = 1, ${count} do
      assert(process.send(${pid}, "m", i))
      if i % 256 == 0 then time.sleep(0) end
    end`;
}

/**
 * A ring member: passes the token `laps` times. The member at position 0 starts it and returns
 * the seconds until it came back the last time (timed in Lua: spawns and exits are not counted).
 */
function member(position: number, nextPid: number, laps: number): string {
  return `
    local inbox = process.inbox()
    local started = time.now()
    if ${position} == 0 then assert(process.send(${nextPid}, "token", 0)) end
    for lap = 1, ${laps} do
      local token = inbox:receive()[1]
      if not (${position} == 0 and lap == ${laps}) then assert(process.send(${nextPid}, "token", token + 1)) end
    end
    return time.now():sub(started):seconds()`;
}

async function stream(host: LuaHost, count: number, engines: [number, number]): Promise<number> {
  const to = host.spawn(receiver(count), { engine: engines[1] });
  await host.settled();
  host.spawn(sender(to.pid, count), { engine: engines[0] });
  return (count - 1) / ((await to.exited) as number);
}

/** Hops/s of a token around `size` processes spread round-robin over the host's engines. */
async function ring(host: LuaHost, size: number, laps: number, engines: number): Promise<number> {
  // pids are handed out in spawn order: the next one is the last handed out + 1.
  const base = host.spawn("return 0").pid + 1;
  const procs = [];
  // Position 0 is spawned last, so that every pid it sends to has been handed out.
  for (let position = size - 1; position >= 0; position--) {
    const pid = base + (size - 1 - position);
    const nextPosition = (position + 1) % size;
    const nextPid = base + (size - 1 - nextPosition);
    const proc = host.spawn(member(position, nextPid, laps), { engine: position % engines });
    if (proc.pid !== pid) throw new Error(`expected pid ${pid}, got ${proc.pid}`);
    procs.push(proc);
  }
  const seconds = (await Promise.all(procs.map((p) => p.exited))) as number[];
  // procs[size - 1] is position 0, spawned last so that every pid it sends to is handed out.
  return (size * laps) / seconds[size - 1]!;
}

/**
 * Process messaging (issue 19): messages/s between two processes on one engine and across two
 * engines, and a 200-process token ring. Peer for the one-engine case: two coroutines of one
 * wasmoon VM passing the same integers through a Lua table queue, what the bridge's one-engine
 * path does without its API, checks and scheduler.
 */
export async function runLuaMessaging(recorder: CaseRecorder, LuaHost: LuaHostClass): Promise<void> {
  const count = recorder.quick ? 20_000 : 200_000;
  const laps = recorder.quick ? 5 : 25;
  const withHost = (engines: number) => async () => {
    const bus = new Bus();
    const host = new LuaHost({ bus, engines });
    await host.ready;
    return { bus, host };
  };
  const teardown = async ({ bus, host }: { bus: Bus; host: LuaHost }) => {
    await host.close();
    await bus.stop();
  };

  const local = recorder.case(
    "i-lua-msg-local",
    `2 Lua processes, one engine, ${count.toLocaleString("en")} messages`,
  );
  // One message is one event here: the results schema has no separate unit.
  const streaming = (engines: [number, number]) => ({
    subject: "threadbus process.send",
    threadbus: true,
    unit: "events/s" as const,
    setup: withHost(engines[1] + 1),
    warmup: ({ host }: { host: LuaHost }) => stream(host, 5_000, engines),
    repeat: async ({ host }: { host: LuaHost }) => ({ value: await stream(host, count, engines) }),
    teardown,
  });
  await recorder.subject(local, streaming([0, 0]));
  await recorder.subject(local, {
    subject: "wasmoon: two coroutines and a Lua table queue",
    threadbus: false,
    unit: "events/s", // one message is one event here: the schema has no separate unit
    async setup() {
      const engine = await new LuaFactory().createEngine();
      await engine.doString(`
        function run(count)
          local q, head, tail = {}, 1, 0
          local consumer = coroutine.wrap(function()
            local got = 0
            while true do
              while head <= tail do
                local v = q[head]; q[head] = nil; head = head + 1
                got = got + 1
                if v ~= got then error("out of order") end
              end
              if got == count then return got end
              coroutine.yield()
            end
          end)
          for i = 1, count do
            tail = tail + 1; q[tail] = i
            if i % 256 == 0 then consumer() end
          end
          return consumer()
        end`);
      return { engine, run: engine.global.get("run") as (count: number) => number };
    },
    warmup: async ({ run }) => {
      run(5_000);
    },
    repeat({ run }) {
      const started = nowNs();
      if (run(count) !== count) throw new Error("the Lua consumer lost messages");
      return { value: count / ((nowNs() - started) / 1e9) };
    },
    teardown: ({ engine }) => engine.global.close(),
  });

  const across = recorder.case(
    "i-lua-msg-engines",
    `2 Lua processes, two engines, ${count.toLocaleString("en")} messages`,
  );
  await recorder.subject(across, streaming([0, 1]));

  for (const engines of [1, 2]) {
    const target = recorder.case(
      `i-lua-ring-${engines}`,
      `token ring of 200 Lua processes on ${engines} engine${engines > 1 ? "s" : ""}, ${laps} laps`,
    );
    await recorder.subject(target, {
      subject: "threadbus process.send",
      threadbus: true,
      unit: "events/s", // hops of the token
      setup: withHost(engines),
      warmup: ({ host }) => ring(host, 200, 1, engines),
      repeat: async ({ host }) => ({ value: await ring(host, 200, laps, engines) }),
      teardown,
    });
  }
}
