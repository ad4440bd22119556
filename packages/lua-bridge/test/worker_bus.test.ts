import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { EventBus } from "@threadbus/core";
import { afterEach, describe, expect, it } from "vitest";
import { LuaHost } from "../dist/index.js";
import { closeAll, harness } from "./helpers.js";

afterEach(closeAll);

const workerDist = fileURLToPath(new URL("../../bus-worker/dist/index.js", import.meta.url));
const workerModule: Record<string, unknown> | null = existsSync(workerDist)
  ? await import("@threadbus/worker")
  : null;
const WorkerBus = workerModule?.WorkerBus as { start(): Promise<EventBus> } | undefined;

// Skipped until @threadbus/worker is built and exports WorkerBus (it runs on the in-thread Bus meanwhile).
describe.skipIf(WorkerBus === undefined)("LuaHost on @threadbus/worker's WorkerBus", () => {
  it("relays events from the worker bus into a Lua process and publishes its answers", async () => {
    const bus = await WorkerBus!.start();
    const { host } = await harness({}, bus);
    const proc = host.spawn(`
      local sub = assert(events.subscribe("registry", "create"))
      local e = sub:receive()
      assert(events.send("registry", "accept", e.path, { name = e.data.name }))
      return e.path
    `);
    await host.settled();
    const answers = await bus.subscribe("registry", "accept");
    bus.send({ system: "registry", kind: "create", path: "w/1", data: { name: "worker" } });
    await expect(proc.exited).resolves.toBe("w/1");
    for await (const answer of answers) {
      expect(answer).toEqual({ system: "registry", kind: "accept", path: "w/1", data: { name: "worker" } });
      break;
    }
  });
});

describe.skipIf(WorkerBus === undefined)("LuaHost on a WorkerBus that cannot take it", () => {
  it("rejects ready when an engine cannot attach (the bus stopped), and refuses spawns", async () => {
    const bus = await WorkerBus!.start();
    await bus.stop();
    const logged: unknown[] = [];
    const host = new LuaHost({ bus, logger: { warn: () => {}, error: (...args) => logged.push(args) } });
    await expect(host.ready).rejects.toMatchObject({ code: "BUS_CLOSED" });
    await expect(host.spawn("return 1").exited).rejects.toMatchObject({ code: "LUA_HOST_CLOSED" });
    expect(host.closed).toBe(true);
  });
});

describe.skipIf(WorkerBus === undefined)("LuaHost on a WorkerBus: the watchdog", () => {
  it("replaces an engine stuck in C; the fresh engine attaches again and receives events", async () => {
    const bus = await WorkerBus!.start();
    const { host } = await harness({ timeSliceMs: 50, watchdogMs: 300 }, bus);
    const stuck = host.spawn(`local s = ("a"):rep(1e5); s:find(".-.-.-b")`, { name: "stuck" });
    await expect(stuck.exited).rejects.toMatchObject({ code: "LUA_TIME_LIMIT", stuck: true });
    const after = host.spawn(`return assert(events.subscribe("w.after")):receive().path`);
    await host.settled();
    bus.send({ system: "w.after", kind: "k", path: "fresh" });
    await expect(after.exited).resolves.toBe("fresh");
    expect(host.stats().restarts).toBe(1);
  });
});
