import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { EventBus } from "@threadbus/core";
import { afterEach, describe, expect, it } from "vitest";
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
