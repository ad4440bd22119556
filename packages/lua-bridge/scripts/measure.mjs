#!/usr/bin/env node
// Measures the Lua bridge (not a test): `pnpm --filter @threadbus/lua build && node scripts/measure.mjs`.
// 1. events/s into one Lua process that counts them (end to end: bus -> relay -> Lua), and the
//    hand-over alone (events already queued on the JS side, drained by the process);
// 2. 1,000 processes each subscribed to a different path: memory per process and routing cost.
import { Bus } from "@threadbus/core";
import { LuaHost } from "../dist/index.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function sendAll(bus, count, makeEvent, chunk = 2000) {
  for (let i = 0; i < count; i += chunk) {
    for (let j = i; j < Math.min(count, i + chunk); j++) bus.send(makeEvent(j));
    await turn();
  }
}

async function oneProcess(count, withData) {
  const bus = new Bus();
  const host = new LuaHost({ bus, print: () => {} });
  const proc = host.spawn(`
    local go = process.inbox()
    local sub = assert(events.subscribe("load", "tick"))
    local ch = sub:channel()
    local mode = go:receive()[1]
    local n = 0
    for i = 1, ${count} do local e = ch:receive(); n = n + 1 end
    return n
  `);
  await host.settled();
  const event = (n) =>
    withData
      ? { system: "load", kind: "tick", path: "p", data: { n, name: "x" } }
      : { system: "load", kind: "tick", path: "p" };
  // Phase A: route everything into the process's queue (it is blocked on its inbox).
  let start = performance.now();
  await sendAll(bus, count, event);
  await host.settled();
  const routeMs = performance.now() - start;
  const queued = host.stats().perProcess[0].queued;
  // Phase B: let the process drain its queue.
  start = performance.now();
  host.spawn(`process.send(${proc.pid}, "go", 1)`);
  await proc.exited;
  const drainMs = performance.now() - start;
  await host.close();
  await bus.stop();

  // End to end: the process is already receiving while events are sent.
  const bus2 = new Bus();
  const host2 = new LuaHost({ bus: bus2, print: () => {} });
  const proc2 = host2.spawn(`
    local ch = assert(events.subscribe("load", "tick")):channel()
    for i = 1, ${count} do ch:receive() end
    return ${count}
  `);
  await host2.settled();
  start = performance.now();
  await sendAll(bus2, count, event);
  await proc2.exited;
  const endToEndMs = performance.now() - start;
  await host2.close();
  await bus2.stop();
  return { queued, routeMs, drainMs, endToEndMs };
}

async function manyProcesses(count, eventsCount, how) {
  const bus = new Bus();
  const host = new LuaHost({ bus, print: () => {} });
  await host.ready;
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const luaBefore = host.stats().memoryBytes;
  const procs = [];
  for (let i = 0; i < count; i++) {
    const subscribe =
      how === "path"
        ? `events.subscribe("registry", "create", "users/${i}")`
        : `events.subscribe("svc.${i}", "create")`;
    procs.push(
      host.spawn(`
        local sub = assert(${subscribe})
        local n = 0
        while true do sub:receive(); n = n + 1; if n == ${eventsCount / count} then return n end end
      `),
    );
  }
  await host.settled();
  global.gc?.();
  const luaPer = (host.stats().memoryBytes - luaBefore) / count;
  const heapPer = (process.memoryUsage().heapUsed - heapBefore) / count;
  const event =
    how === "path"
      ? (n) => ({ system: "registry", kind: "create", path: `users/${n % count}` })
      : (n) => ({ system: `svc.${n % count}`, kind: "create", path: "" });
  const start = performance.now();
  await sendAll(bus, eventsCount, event);
  await Promise.all(procs.map((p) => p.exited));
  const ms = performance.now() - start;
  await host.close();
  await bus.stop();
  return { luaPer, heapPer, ms };
}

function rate(count, ms) {
  return `${Math.round((count / ms) * 1000).toLocaleString("en")} events/s`;
}

const COUNT = Number(process.env.COUNT ?? 200_000);
console.log(`node ${process.version}, ${COUNT} events`);
for (const withData of [false, true]) {
  const r = await oneProcess(COUNT, withData);
  console.log(
    `one process, ${withData ? "data {n, name}" : "no data"}: end to end ${rate(COUNT, r.endToEndMs)}; ` +
      `bus+relay into the queue ${rate(r.queued, r.routeMs)}; Lua hand-over of the queue ${rate(COUNT, r.drainMs)}`,
  );
}
for (const how of ["path", "system"]) {
  const events = 100_000;
  const r = await manyProcesses(1000, events, how);
  console.log(
    `1,000 processes, each subscribed to a different ${how === "path" ? "path (path glob)" : "system (literal)"}: ` +
      `Lua memory ${(r.luaPer / 1024).toFixed(1)} KiB/process, JS heap ${(r.heapPer / 1024).toFixed(1)} KiB/process; ` +
      `${events} events each to one process: ${rate(events, r.ms)} (${((r.ms * 1000) / events).toFixed(2)} µs/event)`,
  );
}
