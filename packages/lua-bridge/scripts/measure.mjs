#!/usr/bin/env node
// Measures the Lua bridge (not a test): `pnpm --filter @threadbus/lua build && node --expose-gc scripts/measure.mjs`.
// 1. events/s into one Lua process (in-thread Bus -> bridge -> engine thread -> Lua), and the CPU
//    each thread spent per event (Linux /proc: robust on a shared, loaded machine, where wall
//    time is not);
// 2. memory of 1,000 idle processes (each subscribed to its own system): the whole process's RSS
//    (engine thread and its wasm heap included) and the Lua VM's own count;
// 3. how fast a runaway process is stopped: by its time slice (a Lua loop) and by the watchdog
//    (a pattern that backtracks in C, where no hook runs).
// ROUNDS=n repeats each measurement (default 3) and prints every figure, for ranges.
import { readdirSync, readFileSync } from "node:fs";
import { Bus } from "@threadbus/core";
import { LuaHost } from "../dist/index.js";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const COUNT = Number(process.env.COUNT ?? 200_000);
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** CPU ms used so far by each thread of this process (Linux only; empty elsewhere). */
function threadCpu() {
  const out = new Map();
  let tids = [];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "latin1");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {}
  }
  return out;
}

async function publish(bus, count, make) {
  for (let i = 0; i < count; i++) {
    bus.send(make(i));
    if (i % 1024 === 1023) await bus.flush();
  }
  await bus.flush();
}

async function throughput() {
  const bus = new Bus();
  const host = new LuaHost({ bus, queueOverflow: "block", print: () => {} });
  await host.ready;
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    const proc = host.spawn(`
      local sub = assert(events.subscribe("orders", "created"))
      local n = 0
      while n < ${COUNT} do
        local e = sub:receive()
        if e.data.seq ~= n then error("out of order") end
        n = n + 1
      end
      return n`);
    await host.settled();
    const before = threadCpu();
    const started = performance.now();
    await publish(bus, COUNT, (seq) => ({ system: "orders", kind: "created", path: "o/1", data: { seq } }));
    await proc.exited;
    const ms = performance.now() - started;
    const used = [...threadCpu()].map(([tid, cpu]) => [tid, cpu - (before.get(tid) ?? 0)]);
    const main = used.find(([tid]) => tid === String(process.pid))?.[1];
    const engine = used.filter(([tid]) => tid !== String(process.pid)).sort((a, b) => b[1] - a[1])[0]?.[1];
    rows.push({ rate: COUNT / (ms / 1000), main, engine });
  }
  await host.close();
  await bus.stop();
  for (const { rate, main, engine } of rows) {
    const cpu =
      main === undefined
        ? ""
        : `; CPU per event: host thread ${((main * 1000) / COUNT).toFixed(2)} µs, engine thread ${((engine * 1000) / COUNT).toFixed(2)} µs`;
    console.log(
      `one process, ${COUNT.toLocaleString("en")} events: ${Math.round(rate).toLocaleString("en")} events/s${cpu}`,
    );
  }
}

async function idleProcesses(count) {
  const bus = new Bus();
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const host = new LuaHost({ bus, print: () => {} });
  await host.ready;
  await host.settled();
  global.gc?.();
  const rssEmpty = process.memoryUsage().rss;
  const luaEmpty = host.stats().memoryBytes;
  for (let i = 0; i < count; i++) {
    host.spawn(`local sub = assert(events.subscribe("svc.${i}", "create")); sub:receive()`);
  }
  await host.settled();
  global.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 300));
  await host.settled();
  const rssFull = process.memoryUsage().rss;
  const stats = host.stats();
  await host.close();
  await bus.stop();
  console.log(
    `${count.toLocaleString("en")} idle processes: RSS +${mb(rssFull - rssBefore)} in all ` +
      `(host and engine thread alone: +${mb(rssEmpty - rssBefore)}; the processes: +${mb(rssFull - rssEmpty)}, ` +
      `${((rssFull - rssEmpty) / count / 1024).toFixed(1)} KiB each); Lua VM ${mb(stats.memoryBytes)} ` +
      `(${((stats.memoryBytes - luaEmpty) / count / 1024).toFixed(1)} KiB per process); live: ${stats.processes}`,
  );
}

async function reaction(what, source, options) {
  const bus = new Bus();
  let startedAt = 0;
  const host = new LuaHost({
    bus,
    print: () => {
      startedAt = performance.now();
    },
    logger: { warn: () => {}, error: () => {} },
    ...options,
  });
  await host.ready;
  const proc = host.spawn(source);
  const error = await proc.exited.catch((e) => e);
  const ms = performance.now() - startedAt;
  await host.close();
  await bus.stop();
  // The script prints, then sleeps 1 ms (so the line reaches the host at once), then runs away.
  console.log(
    `${what}: stopped ${(ms - 1).toFixed(0)} ms after it began (${error.code}${error.stuck ? ", stuck" : ""})`,
  );
}

console.log(`node ${process.version}, ${ROUNDS} rounds`);
// Memory first, in a fresh process: the throughput run leaves heap and RSS behind.
if (!process.env.SKIP_MEMORY) for (let round = 0; round < ROUNDS; round++) await idleProcesses(1000);
if (!process.env.SKIP_THROUGHPUT) await throughput();
for (let round = 0; round < ROUNDS; round++) {
  await reaction("a Lua loop, timeSliceMs 100", `print("go"); time.sleep(1); while true do end`, {
    instructionBudget: 2 ** 31 - 1,
  });
  await reaction(
    "a pattern stuck in C, watchdogMs 1000 (default)",
    `print("go"); time.sleep(1); local s = ("a"):rep(1e5); s:find(".-.-.-b")`,
    {},
  );
  await reaction(
    "a pattern stuck in C, watchdogMs 300",
    `print("go"); time.sleep(1); local s = ("a"):rep(1e5); s:find(".-.-.-b")`,
    {
      timeSliceMs: 50,
      watchdogMs: 300,
    },
  );
}
