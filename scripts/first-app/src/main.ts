// What a new user writes first, compiled by the user's own strict tsc against the installed
// packages: a WorkerBus, a publisher worker, an audit subscription, a piscina step, inspect(),
// and a clean stop. Prints one line that pack-install.sh checks.
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { Bus, type BusEvent } from "@threadbus/core";
import type { LuaHostOptions } from "@threadbus/lua";
import type { Monitor } from "@threadbus/monitor";
import type { NatsBridgeOptions } from "@threadbus/nats";
import { subscribePool, WorkerBus } from "@threadbus/worker";

const COUNT = 200;

// The in-thread Bus, with the same API.
const local = new Bus();
const localSub = await local.subscribe("shop", "**");
local.send({ system: "shop", kind: "ping", path: "" });
await local.stop();
let localSeen = 0;
for await (const _ of localSub) localSeen++;

const bus = await WorkerBus.start();
const audit = await bus.subscribe("shop", "**");
let digests = 0;
const pool = await subscribePool<{ i: number }, string>(bus, "shop", "order.*", {
  filename: new URL("./checksum.js", import.meta.url),
  pool: { maxThreads: 1 },
  onResult: (_event: BusEvent<{ i: number }>, digest: string) => {
    if (digest.length === 64) digests++;
  },
});
const handle = bus.handle();
const worker = new Worker(new URL("./publisher.js", import.meta.url), {
  workerData: { handle, count: COUNT },
  transferList: [handle.port],
});
let seen = 0;
for await (const event of audit) {
  if (event.kind === "order.created") seen++;
  if (seen === COUNT) break;
}
await once(worker, "exit");
// The pool's results come after the audit saw the last event: wait for them, bounded.
const deadline = Date.now() + 10_000;
while (pool.stats().completed < COUNT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
const info = await bus.inspect();
await pool.close();
await bus.stop();

// Every other package loads from its tarball, and its types compiled above.
const others = await Promise.all([
  import("@threadbus/monitor"),
  import("@threadbus/nats"),
  import("@threadbus/lua"),
]);
const [monitor, nats, lua] = others;
const loaded =
  typeof monitor.serveMonitor === "function" &&
  typeof nats.NatsBridge === "function" &&
  typeof lua.LuaHost === "function";
const typed: [Monitor | null, NatsBridgeOptions | null, LuaHostOptions | null] = [null, null, null];

const ok = localSeen === 1 && seen === COUNT && digests === COUNT && loaded && typed.length === 3;
console.log(
  `first-app ${ok ? "OK" : "FAILED"}: ${seen} events from a worker, ${digests} checksums, ` +
    `dispatcher read ${info.eventsRead}, ${localSeen} on the in-thread Bus, other packages ${loaded ? "loaded" : "missing"}`,
);
process.exitCode = ok ? 0 : 1;
