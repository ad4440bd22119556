/**
 * threadbus's main demo: a multi-threaded backend in miniature on the WorkerBus.
 *
 *   request handlers (2 worker threads) --send--> [ shared ring ] --> dispatcher worker
 *       |  registry and process events at a steady rate, and register requests (Awaiter)
 *       v
 *   subscribers: a catalogue on the main thread, an audit thread (a worker), a piscina pool
 *   checksumming every "entry.update", and a Lua process answering register requests.
 *
 * It prints one status line a second and the monitor's address, runs ~15 s, prints a summary and
 * exits 0 when every check holds. `pnpm demo -- --forever` keeps it running (Ctrl-C stops it).
 */
import { Worker } from "node:worker_threads";
import { type BusEvent, Subscriber } from "@threadbus/core";
import { LuaHost } from "@threadbus/lua";
import { serveMonitor } from "@threadbus/monitor";
import { subscribePool, WorkerBus, type WorkerBusHandle } from "@threadbus/worker";
import type { AuditReport, EntryUpdate, HandlerReport } from "./messages.js";
import { REGISTRAR } from "./registrar.lua.js";

const args = process.argv.slice(2);
const forever = args.includes("--forever");
const seconds = Number(args[args.indexOf("--seconds") + 1]) || 15;
const rate = Number(args[args.indexOf("--rate") + 1]) || 1500;
const port = Number(process.env.MONITOR_PORT ?? 0);

function startWorker(file: string, data: { handle: WorkerBusHandle } & Record<string, unknown>): Worker {
  return new Worker(new URL(file, import.meta.url), { workerData: data, transferList: [data.handle.port] });
}

function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

const n = (value: number) => Math.round(value).toLocaleString("en");

// ---- the bus, the monitor, and the subscribers ------------------------------------------------
const bus = await WorkerBus.start();
const monitor = await serveMonitor(bus, { port });

const catalogue = new Map<string, number>();
let registryEvents = 0;
const registry = await Subscriber.start(bus, "registry", "(create|delete)", (event) => {
  registryEvents++;
  if (event.kind === "create") catalogue.set(event.path, Date.now());
  else catalogue.delete(event.path);
});
// The last few process exits, for a "recently exited" list: a small drop-oldest buffer, read as
// events come (it would drop, and count, the oldest ones if this thread fell behind).
const exits = await bus.subscribe("process", "exit", { bufferSize: 256, overflow: "drop-oldest" });
const recentExits: string[] = [];
const readingExits = (async () => {
  for await (const event of exits) {
    recentExits.push(event.path);
    if (recentExits.length > 10) recentExits.shift();
  }
})();

let checksums = 0;
const pool = await subscribePool<EntryUpdate, string>(bus, "registry", "entry.update", {
  filename: new URL("./pool_task.js", import.meta.url),
  pool: { minThreads: 2, maxThreads: 2 },
  bufferSize: 1024,
  onResult: () => checksums++,
  onError: (event: BusEvent, error: unknown) => console.error(`pool task for ${event.path} failed`, error),
});

const luaLines: string[] = [];
const lua = new LuaHost({ bus, print: (line) => luaLines.push(line) });
const registrar = lua.spawn(REGISTRAR, { name: "registrar" });
await lua.ready;
await lua.settled(); // the registrar has subscribed

const audit = startWorker("./audit.js", { handle: bus.handle() });
await nextMessage(audit);
const handlers = ["handler-1", "handler-2"].map((name) =>
  startWorker("./handler.js", { handle: bus.handle(), name, rate: rate / 2 }),
);
await Promise.all(handlers.map((worker) => nextMessage(worker)));

console.log(
  `threadbus demo: 2 request-handler threads -> WorkerBus dispatcher -> main thread, audit thread,`,
);
console.log(`piscina pool (2 threads), Lua registrar. ~${n(rate)} events/s offered.`);
console.log(`monitor: ${monitor.url}${forever ? "" : `  (pnpm demo -- --forever keeps it running)`}`);

// ---- one status line a second ------------------------------------------------------------------
const started = performance.now();
let previous = { at: started, stats: bus.stats() };
let peakOccupancy = 0;
async function status(): Promise<void> {
  const now = performance.now();
  const stats = bus.stats();
  const inspection = await bus.inspect();
  const dt = (now - previous.at) / 1000;
  peakOccupancy = Math.max(peakOccupancy, inspection.ring.occupancy);
  const p = pool.stats();
  const luaStats = lua.stats();
  console.log(
    [
      `[${String(Math.round((now - started) / 1000)).padStart(3)}s]`,
      `in ${n((stats.sent - previous.stats.sent) / dt)}/s`,
      `out ${n((stats.delivered - previous.stats.delivered) / dt)}/s`,
      `ring ${(inspection.ring.occupancy * 100).toFixed(1)}%`,
      `drops ${n(stats.dropped)}`,
      `pool queue ${p.queued + p.running} (done ${n(p.completed)})`,
      `lua routed ${n(luaStats.routed)}`,
      `subscriptions ${inspection.subscriptions.length}, threads ${inspection.clients.length}`,
    ].join("  "),
  );
  previous = { at: now, stats };
}
const ticker = setInterval(() => void status().catch(() => undefined), 1000);

let stopping = false;
function stopOnce(): void {
  if (stopping) return;
  stopping = true;
  void shutdown();
}
if (forever) process.once("SIGINT", stopOnce);
else setTimeout(stopOnce, seconds * 1000);

// ---- shutdown and summary ----------------------------------------------------------------------
async function shutdown(): Promise<void> {
  clearInterval(ticker);
  const reports = await Promise.all(
    handlers.map((worker) => {
      const reported = nextMessage<HandlerReport>(worker);
      worker.postMessage("stop");
      return reported;
    }),
  );
  await bus.flush();
  const auditReport = nextMessage<AuditReport>(audit);
  audit.postMessage("report");
  const audited = await auditReport;
  await registry.close();
  const inspection = await bus.inspect();
  await exits.close();
  await readingExits;
  const exitStats = exits.stats();
  await pool.close();
  const poolStats = pool.stats();
  const luaStats = lua.stats();
  await lua.close();
  await registrar.exited.catch(() => undefined);
  await monitor.close();
  const monitorDrops = monitor.stats().tail.droppedByBus;
  await bus.stop();
  const stats = bus.stats();
  const elapsed = (performance.now() - started) / 1000;

  const sent = reports.reduce((sum, r) => sum + r.sent, 0);
  const requests = reports.reduce((sum, r) => sum + r.requests, 0);
  const accepted = reports.reduce((sum, r) => sum + r.accepted, 0);
  const rejected = reports.reduce((sum, r) => sum + r.rejected, 0);
  const unanswered = reports.reduce((sum, r) => sum + r.unanswered, 0);
  console.log(`\nsummary after ${elapsed.toFixed(1)} s`);
  for (const r of reports)
    console.log(
      `  ${r.name} (worker): sent ${n(r.sent)} events, refused ${r.refused}, ${r.requests} register requests`,
    );
  console.log(
    `  dispatcher (worker): routed ${n(inspection.eventsRead)} events, fan-out ${inspection.fanOut.toFixed(2)}, match-cache hit rate ${(inspection.matchCache.hitRate * 100).toFixed(1)}%, peak ring ${(peakOccupancy * 100).toFixed(1)}%, CPU ${inspection.dispatcherCpuMs ?? "?"} ms`,
  );
  console.log(
    `  main thread: ${n(registryEvents)} registry create/delete, ${n(catalogue.size)} services live; ${n(exitStats.received)} process exits seen (last: ${recentExits.at(-1) ?? "none"})`,
  );
  console.log(
    `  audit (worker): ${n(audited.events)} events ${JSON.stringify(audited.bySystem)}, out of order: ${audited.outOfOrder}`,
  );
  console.log(
    `  pool (piscina, 2 threads): ${n(poolStats.completed)} checksums of ${n(poolStats.received)} entry updates, failed ${poolStats.failed}, dropped ${poolStats.dropped}`,
  );
  console.log(
    `  lua registrar: ${requests} requests -> ${accepted} accepted, ${rejected} refused (name taken), ${unanswered} unanswered; host routed ${n(luaStats.routed)} events${luaLines.length > 0 ? `; last said "${luaLines.at(-1)}"` : ""}`,
  );
  console.log(
    `  bus: sent ${n(stats.sent)}, delivered ${n(stats.delivered)}, dropped ${n(stats.dropped)}${monitorDrops > 0 ? ` (${n(monitorDrops)} by the monitor's sampled live tail)` : ""}, refused ${stats.refused}`,
  );

  const problems: string[] = [];
  if (audited.outOfOrder !== 0) problems.push(`${audited.outOfOrder} events out of order`);
  // The audit saw every handler event (plus the register requests and the registrar's answers).
  if (audited.events < sent) problems.push(`the audit saw ${audited.events} events of ${sent} sent`);
  if (poolStats.completed + poolStats.failed + poolStats.aborted + poolStats.dropped !== poolStats.received)
    problems.push("the pool lost track of an event");
  if (accepted === 0 || unanswered !== 0)
    problems.push(`Lua answered ${accepted + rejected} of ${requests} requests`);
  if (checksums !== poolStats.completed) problems.push("a pool result went missing");
  // At this rate nothing should drop. What may: the exits buffer (drop-oldest) if a loaded machine
  // made its reader fall behind, and the monitor's live tail when a page streams it (sampled).
  const expected = exitStats.dropped + monitorDrops;
  if (stats.dropped !== expected) problems.push(`${stats.dropped - expected} unexpected drops`);
  console.log(
    problems.length === 0
      ? "  OK: every event accounted for, in order per handler"
      : `  FAILED: ${problems.join("; ")}`,
  );
  process.exitCode = problems.length === 0 ? 0 : 1;
}
