/**
 * A small HTTP service on the WorkerBus, written as a user of the published packages would:
 * - POST /orders publishes `orders create` on path `h<N>/<id>`; one of 3 handler workers (each
 *   subscribed with a glob on the path) answers `create.accepted` or `create.rejected` on the same
 *   path, which an Awaiter hands back to the request (201 or 422);
 * - an audit worker counts every event (`**`); a piscina pool computes a sha256 per accepted order;
 * - GET /stats answers bus.inspect() and the pool's counters (503 once the bus stops);
 * - SIGINT/SIGTERM stop it cleanly: the server, the workers, the pool, then the bus.
 * `start` runs a bounded load step against it, stops it with SIGTERM, and exits 0 only when every
 * request and every event is accounted for. `--serve` keeps it running for curl instead.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import { Awaiter, BusClosedError } from "@threadbus/core";
import { subscribePool, WorkerBus } from "@threadbus/worker";
import { runLoad } from "./load.js";
import { type AuditReport, HANDLERS, type HandlerReport, type OrderRequest } from "./messages.js";

const REQUESTS = 2000;
const CONNECTIONS = 16;

const bus = await WorkerBus.start();
const answers = new Awaiter(bus, "orders", "create.*");
let digests = 0;
const pool = await subscribePool<unknown, string>(bus, "orders", "create.accepted", {
  filename: new URL("./digest.js", import.meta.url),
  pool: { maxThreads: 1 },
  onResult: () => void digests++,
});

/** The one documented way a worker gets its handle: `{ workerData: { handle } }`, `handle.port` transferred. */
function startWorker(file: string, data: Record<string, unknown> = {}): Worker {
  const handle = bus.handle();
  return new Worker(new URL(file, import.meta.url), {
    workerData: { handle, ...data },
    transferList: [handle.port],
  });
}

const audit = startWorker("./audit.js");
const handlers = Array.from({ length: HANDLERS }, (_, index) => startWorker("./handler.js", { index }));
await Promise.all([audit, ...handlers].map((worker) => once(worker, "message")));

let nextId = 0;
let acceptedOrders = 0;
async function createOrder(request: IncomingMessage, response: ServerResponse): Promise<void> {
  let body = "";
  for await (const chunk of request) body += chunk;
  let order: OrderRequest;
  try {
    order = JSON.parse(body) as OrderRequest;
  } catch {
    response.writeHead(400).end();
    return;
  }
  const id = nextId++;
  const path = `h${id % HANDLERS}/${id}`;
  const waiter = await answers.prepare(path, { timeoutMs: 30_000 });
  bus.send({ system: "orders", kind: "create", path, data: order });
  const { accepted, event, error } = await waiter.wait();
  if (accepted) acceptedOrders++;
  response.writeHead(accepted ? 201 : 422, { "content-type": "application/json" });
  response.end(JSON.stringify(accepted ? event.data : error));
}

/** GET /stats: the bus's inspection and the pool's counters; 503 once the bus is closed. */
async function statsBody(): Promise<{ status: number; body: unknown }> {
  try {
    const info = await bus.inspect();
    return {
      status: 200,
      body: { stats: info.stats, subscriptions: info.subscriptions.length, pool: pool.stats() },
    };
  } catch (error) {
    if (error instanceof BusClosedError) return { status: 503, body: { error: error.code } };
    throw error;
  }
}

const server = createServer((request, response) => {
  const handled =
    request.method === "POST" && request.url === "/orders"
      ? createOrder(request, response)
      : request.method === "GET" && request.url === "/stats"
        ? statsBody().then(({ status, body }) => {
            response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
          })
        : Promise.resolve(void response.writeHead(404).end());
  handled.catch((error: unknown) => {
    // A request cut short by the stop (its waiter rejects with BUS_CLOSED) still gets an answer.
    if (!response.headersSent) response.writeHead(503).end(String((error as Error).message));
  });
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** The clean stop: no new requests, the workers detach, the pool drains, then the bus stops. */
async function shutdown(): Promise<{
  ms: number;
  racingStats: number;
  audit: AuditReport;
  handled: number[];
}> {
  const started = performance.now();
  server.close();
  server.closeIdleConnections();
  await bus.flush();
  const handlerReports = handlers.map((worker) => once(worker, "message") as Promise<[HandlerReport]>);
  for (const worker of handlers) worker.postMessage("stop");
  const handled = (await Promise.all(handlerReports)).map(([report]) => report.received);
  const auditReport = once(audit, "message") as Promise<[AuditReport]>;
  audit.postMessage("stop");
  const [report] = await auditReport;
  // Drain before close: close() aborts what is still queued. Bounded, in case a task hangs.
  const deadline = Date.now() + 10_000;
  const settled = () => {
    const s = pool.stats();
    return s.completed + s.failed + s.aborted + s.dropped;
  };
  while (settled() < acceptedOrders && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await pool.close();
  await answers.close();
  const stopping = bus.stop();
  // A /stats request racing the stop is answered (503), never left hanging.
  const racing = await statsBody();
  await stopping;
  return { ms: performance.now() - started, racingStats: racing.status, audit: report, handled };
}

if (process.argv.includes("--serve")) {
  console.log(`http-service on ${origin} (POST /orders, GET /stats); Ctrl-C stops it`);
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(
      signal,
      () => void shutdown().then(({ ms }) => console.log(`stopped in ${ms.toFixed(0)} ms`)),
    );
} else {
  const load = await runLoad(origin, REQUESTS, CONNECTIONS);
  // The stop is driven by a real signal, as a process manager would send it.
  const stopped = new Promise<Awaited<ReturnType<typeof shutdown>>>((resolve) =>
    process.once("SIGTERM", () => void shutdown().then(resolve)),
  );
  process.kill(process.pid, "SIGTERM");
  const stop = await stopped;
  const stats = bus.stats();
  const poolStats = pool.stats();
  const byKind = stop.audit.byKind;
  const answered = load.accepted + load.rejected;
  const checks: [string, boolean][] = [
    ["every request answered 201 or 422", load.failed === 0 && answered === REQUESTS],
    ["handlers received every request", stop.handled.reduce((a, b) => a + b, 0) === REQUESTS],
    ["audit saw every request and answer", byKind.create === REQUESTS && stop.audit.events === 2 * REQUESTS],
    [
      "answers match the responses",
      byKind["create.accepted"] === load.accepted && byKind["create.rejected"] === load.rejected,
    ],
    [
      "a digest per accepted order",
      digests === load.accepted && poolStats.failed + poolStats.dropped + poolStats.aborted === 0,
    ],
    // handlers + audit (request and answer) + the Awaiter's answers + the pool's accepted orders
    ["bus delivered each event to each subscriber", stats.delivered === 4 * REQUESTS + load.accepted],
    [
      "nothing dropped or refused",
      stats.sent === 2 * REQUESTS && stats.dropped + stats.refused + stats.droppedOnStop === 0,
    ],
    [
      "GET /stats answered during load, 503 while stopping",
      load.stats.stats !== undefined && stop.racingStats === 503,
    ],
  ];
  console.log("threadbus http-service example");
  console.log(
    `  load: ${REQUESTS} requests over ${CONNECTIONS} connections in ${load.seconds.toFixed(2)} s: ${(REQUESTS / load.seconds).toFixed(0)} requests/s`,
  );
  console.log(
    `  responses: ${load.accepted} accepted (201), ${load.rejected} rejected (422), ${load.failed} failed`,
  );
  console.log(
    `  handlers: ${stop.handled.join(" + ")} requests; audit: ${stop.audit.events} events ${JSON.stringify(byKind)}`,
  );
  console.log(
    `  pool: ${digests} sha256 digests (${poolStats.failed} failed, ${poolStats.dropped} dropped, ${poolStats.aborted} aborted)`,
  );
  console.log(
    `  bus: sent ${stats.sent}, delivered ${stats.delivered}, dropped ${stats.dropped}, refused ${stats.refused}, dropped on stop ${stats.droppedOnStop}`,
  );
  console.log(`  stop on SIGTERM: ${stop.ms.toFixed(0)} ms; a /stats racing it answered ${stop.racingStats}`);
  for (const [what, ok] of checks) if (!ok) console.log(`  MISMATCH: ${what}`);
  const ok = checks.every(([, passed]) => passed);
  console.log(ok ? "  OK: every request and every event accounted for" : "  FAILED");
  process.exitCode = ok ? 0 : 1;
}
