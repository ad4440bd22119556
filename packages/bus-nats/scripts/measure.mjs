// Measures one bridge hop on loopback against raw nats.js with the same payloads, in one run,
// throughput and one-at-a-time latency (the throughput side is also `pnpm bench -- k-nats`):
//   node scripts/measure.mjs [events=200000] [latencySamples=2000]
// Needs `pnpm --filter @threadbus/nats build` and nats-server (PATH, /usr/sbin, or NATS_URL).
// Both sides live in this process (two NATS connections), for the bridge and for the raw peer
// alike, so the comparison is fair; absolute numbers are per process, not per machine.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { performance } from "node:perf_hooks";
import { connect } from "@nats-io/transport-node";
import { Bus } from "@threadbus/core";
import { encodeMessage, NatsBridge, subjectFor } from "../dist/index.js";

const EVENTS = Number(process.argv[2] ?? 200_000);
const SAMPLES = Number(process.argv[3] ?? 2000);
const WINDOW = 10_000;
const BATCH = 500;

function findServer() {
  for (const c of [
    ...(process.env.PATH ?? "").split(delimiter).map((d) => join(d, "nats-server")),
    "/usr/sbin/nats-server",
  ]) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  throw new Error("nats-server not found (or set NATS_URL)");
}

async function startServer() {
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
  const child = spawn(findServer(), ["-a", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise((resolve, reject) => {
    let log = "";
    child.stderr.on("data", (d) => {
      log += d;
      if (log.includes("Server is ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`nats-server exited ${code}: ${log}`)));
  });
  return { url: `nats://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") };
}

const event = (i, sentAt = 0) => ({
  system: "measure",
  kind: "tick",
  path: `item/${i}`,
  data: { i, sentAt, body: "x".repeat(32) },
});

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Drives `send(i)` with at most WINDOW events in flight; `received()` counts arrivals. */
async function throughput(send, received, flush) {
  const start = performance.now();
  for (let i = 0; i < EVENTS; i += BATCH) {
    while (i - received() > WINDOW) await new Promise((r) => setImmediate(r));
    for (let j = i; j < Math.min(EVENTS, i + BATCH); j++) send(j);
    await flush();
  }
  while (received() < EVENTS) await new Promise((r) => setImmediate(r));
  return EVENTS / ((performance.now() - start) / 1000);
}

/** One event at a time: send, wait for it to arrive, record the round in microseconds. */
async function latency(sendAndWait) {
  const samples = [];
  for (let i = 0; i < SAMPLES + 200; i++) {
    const t0 = performance.now();
    await sendAndWait(i);
    if (i >= 200) samples.push((performance.now() - t0) * 1000); // the first 200 warm up
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function measureBridge(url) {
  const a = new Bus();
  const b = new Bus();
  const exporter = await NatsBridge.start({ bus: a, servers: url, prefix: "m", export: ["measure"] });
  const importer = await NatsBridge.start({ bus: b, servers: url, prefix: "m", import: ["measure"] });
  const sub = await b.subscribe("measure", "", { bufferSize: 1 << 16 });
  let count = 0;
  let waiter = null;
  void (async () => {
    for (let batch = await sub.nextBatch(); batch; batch = await sub.nextBatch()) {
      count += batch.length;
      waiter?.();
    }
  })();
  const rate = await throughput(
    (i) => a.send(event(i)),
    () => count,
    () => a.flush(),
  );
  count = 0;
  const lat = await latency(
    (i) =>
      new Promise((resolve) => {
        waiter = () => {
          waiter = null;
          resolve();
        };
        a.send(event(i));
      }),
  );
  const stats = [exporter.stats(), importer.stats()];
  await exporter.stop();
  await importer.stop();
  await a.stop();
  await b.stop();
  return { rate, ...lat, stats };
}

async function measureRaw(url) {
  const pub = await connect({ servers: url });
  const sub = await connect({ servers: url });
  const subject = subjectFor("raw", "measure", "tick");
  // Each event as a one-event message of the bridge's wire format, encoded ahead: the transport alone.
  const header = { origin: "raw", epoch: 1, system: "measure", kind: "tick" };
  const payloads = Array.from({ length: 1000 }, (_, i) => {
    const e = event(i);
    return encodeMessage({ ...header, last: i + 1 }, [e.path, e.data]);
  });
  let count = 0;
  let waiter = null;
  sub.subscribe(subject, {
    callback: () => {
      count++;
      waiter?.();
    },
  });
  await sub.flush();
  const rate = await throughput(
    (i) => pub.publish(subject, payloads[i % 1000]),
    () => count,
    () => Promise.resolve(),
  );
  const lat = await latency(
    (i) =>
      new Promise((resolve) => {
        waiter = () => {
          waiter = null;
          resolve();
        };
        pub.publish(subject, payloads[i % 1000]);
      }),
  );
  await pub.close();
  await sub.close();
  return { rate, ...lat };
}

const server = process.env.NATS_URL ? null : await startServer();
const url = process.env.NATS_URL ?? server.url;
try {
  const raw = await measureRaw(url);
  const bridge = await measureBridge(url);
  const row = (name, r) =>
    `${name.padEnd(28)} ${Math.round(r.rate).toLocaleString("en-US").padStart(10)} ev/s   p50 ${r.p50.toFixed(0).padStart(5)} µs   p99 ${r.p99.toFixed(0).padStart(6)} µs`;
  console.log(`${EVENTS} events (window ${WINDOW}), ${SAMPLES} latency samples, node ${process.version}`);
  console.log(row("raw nats.js pub/sub", raw));
  console.log(row("bus -> bridge -> NATS -> bus", bridge));
  const [e, i] = bridge.stats;
  console.log(
    `bridge stats: exported ${e.exported} in ${e.messages} messages, dropped ${e.dropped}; imported ${i.imported}, lost ${i.lost}, bad ${i.badMessages}`,
  );
} finally {
  server?.stop();
}
