import { Bus } from "@threadbus/core";
import { LuaFactory } from "wasmoon";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { Unavailable } from "../scenario.js";
import { nowNs } from "../stats.js";
import { publish } from "../subjects/publish.js";
import { runLuaMessaging } from "./i_lua_messages.js";

type LuaModule = typeof import("@threadbus/lua");
type LuaHost = InstanceType<LuaModule["LuaHost"]>;

// Loaded on first use, not imported statically: if @threadbus/lua is not built (or broken), this
// scenario is skipped with the reason and the others still run.
const LUA_PACKAGE: string = "@threadbus/lua";

async function loadLuaHost(): Promise<LuaModule["LuaHost"]> {
  try {
    return ((await import(LUA_PACKAGE)) as LuaModule).LuaHost;
  } catch (error) {
    throw new Unavailable(`${LUA_PACKAGE} could not be loaded (${(error as Error).message.split("\n")[0]})`);
  }
}

/** A Lua process that receives `count` events on its subscription, then exits returning the count. */
function receiver(count: number): string {
  return `
    local sub = assert(events.subscribe("orders", "created"))
    local n = 0
    while n < ${count} do
      local e = sub:receive()
      if e.data.seq ~= n then error("out of order: " .. tostring(e.data.seq) .. " at " .. n) end
      n = n + 1
    end
    return n`;
}

export const luaScenario: Scenario = {
  id: "i-lua",
  title: "delivery to a Lua process",
  measures:
    'Events/s received by a Lua 5.4 script (wasmoon) that reads event.data.seq of each. threadbus: LuaHost on the in-thread Bus (its engine on a worker thread, queueOverflow "block"), send() in a loop, the process receives from its subscription in a loop; timed from the first send until the process exits after the last event. Peer: calling a Lua function once per event from JS through wasmoon (the event object becomes a Lua table), what a user writes without the bridge. Messaging cases: messages/s from one Lua process to another (process.send, inbox:receive) on one engine and across two, and hops/s of a token around 200 processes, each timed in Lua from the first message to the last; peer of the one-engine case: two coroutines of one wasmoon VM and a Lua table queue.',
  async unavailable() {
    try {
      await loadLuaHost();
      return null;
    } catch (error) {
      if (error instanceof Unavailable) return error.message;
      throw error;
    }
  },
  async run(recorder: CaseRecorder) {
    const LuaHost = await loadLuaHost();
    const count = recorder.quick ? 20_000 : 200_000;
    const makeEvent = (seq: number) => ({ system: "orders", kind: "created", path: "o/1", data: { seq } });
    const target = recorder.case("i-lua", `1 Lua process, ${count.toLocaleString("en")} events`);
    const throughLuaHost = async (host: LuaHost, bus: Bus, events: number) => {
      const process = host.spawn(receiver(events), { name: "bench" });
      await host.settled();
      const started = nowNs();
      await publish(bus, events, makeEvent);
      const received = await process.exited;
      if (received !== events) throw new Error(`the Lua process received ${String(received)} of ${events}`);
      return events / ((nowNs() - started) / 1e9);
    };
    await recorder.subject(target, {
      subject: "threadbus LuaHost",
      threadbus: true,
      unit: "events/s",
      async setup() {
        const bus = new Bus();
        // Lossless, as the peer is: a full process queue holds the relay (and the bus) instead of
        // dropping, so the publisher runs at the pace of the Lua process.
        const host = new LuaHost({ bus, queueOverflow: "block" });
        await host.ready;
        return { bus, host };
      },
      warmup: ({ bus, host }) => throughLuaHost(host, bus, 5_000),
      repeat: async ({ bus, host }) => ({ value: await throughLuaHost(host, bus, count) }),
      async teardown({ bus, host }) {
        await host.close();
        await bus.stop();
      },
    });
    await recorder.subject(target, {
      subject: "wasmoon: a Lua function called per event",
      threadbus: false,
      unit: "events/s",
      async setup() {
        const engine = await new LuaFactory().createEngine();
        await engine.doString("n = 0 function handle(e) if e.data.seq >= 0 then n = n + 1 end end");
        const handle = engine.global.get("handle") as (event: unknown) => void;
        return { engine, handle };
      },
      warmup: async ({ handle }) => {
        for (let seq = 0; seq < 5_000; seq++) handle(makeEvent(seq));
      },
      repeat({ engine, handle }) {
        const before = engine.global.get("n") as number;
        const started = nowNs();
        for (let seq = 0; seq < count; seq++) handle(makeEvent(seq));
        const elapsed = nowNs() - started;
        const handled = (engine.global.get("n") as number) - before;
        if (handled !== count) throw new Error(`the Lua function counted ${handled} of ${count}`);
        return { value: count / (elapsed / 1e9) };
      },
      teardown: ({ engine }) => engine.global.close(),
    });
    await runLuaMessaging(recorder, LuaHost);
  },
};
