// Quick measurements of the worker bus (not a test, not the bench harness):
//   node scripts/measure.mjs            (build first: pnpm --filter @threadbus/worker build)
// 1. throughput main-thread publisher -> dispatcher -> one subscriber (in a worker), 64-byte
//    payload, vs plain postMessage of one message per event from the main thread to that worker;
// 2. publisher-side cost of send() with room in the ring;
// 3. latency publish -> subscriber at 10k events/s offered (publisher in an attached worker).
import { MessageChannel, Worker } from "node:worker_threads";
import { WorkerBus } from "../dist/index.js";

const N = Number(process.env.N ?? 1_000_000);
const payload = "x".repeat(64);
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A subscriber thread: counts `N` events (through the bus, or plain messages on a port) and reports. */
const counterSource = `
  import { workerData, parentPort } from "node:worker_threads";
  const { N, handle, port } = workerData;
  if (handle) {
    const { attach } = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});
    const bus = attach(handle);
    const sub = await bus.subscribe("m", "", { bufferSize: 65536 });
    parentPort.postMessage("ready");
    let n = 0;
    if (workerData.batch) {
      // The core Subscriber's path: one promise per delivered batch.
      while (n < N) n += (await sub.nextBatch()).length;
    } else {
      for await (const e of sub) if (++n === N) break;
    }
    parentPort.postMessage(n);
    await bus.stop();
  } else {
    let n = 0;
    port.on("message", () => { if (++n === N) { parentPort.postMessage(n); port.close(); } });
    parentPort.postMessage("ready");
  }`;

function counter(workerData, transferList) {
  const worker = new Worker(counterSource, { eval: true, workerData, transferList });
  const ready = new Promise((resolve) => worker.once("message", resolve));
  const done = ready.then(() => new Promise((resolve) => worker.once("message", resolve)));
  return { worker, ready, done };
}

/**
 * Publishes N events from the main thread in bursts (yielding so ports and timers run). `send`
 * returns false when there is no room now; `ready` waits for room without blocking the thread.
 */
async function publish(send, ready = tick) {
  const event = { system: "m", kind: "tick", path: "p/1", data: payload };
  for (let sent = 0; sent < N; ) {
    for (let i = 0; i < 4000 && sent < N; i++) {
      if (send(event)) sent++;
      else break;
    }
    await ready();
  }
}

async function busThroughput(batch) {
  // The main thread never blocks: "drop" returns false on a full ring, and ready() waits for room.
  const bus = await WorkerBus.start({ ringBytes: 1 << 24, onFull: "drop" });
  const handle = bus.handle();
  const { ready, done } = counter({ N, handle, batch }, [handle.port]);
  await ready;
  const started = performance.now();
  await publish(
    (e) => bus.send(e),
    () => bus.ready(),
  );
  await done;
  const rate = N / ((performance.now() - started) / 1000);
  await bus.stop();
  return rate;
}

async function postMessageThroughput() {
  const channel = new MessageChannel();
  const { worker, ready, done } = counter({ N, port: channel.port2 }, [channel.port2]);
  await ready;
  const started = performance.now();
  await publish((e) => {
    channel.port1.postMessage(e);
    return true;
  });
  await done;
  const rate = N / ((performance.now() - started) / 1000);
  await worker.terminate();
  return rate;
}

async function sendCost() {
  // A 16 MiB ring (cache-friendlier than a huge one) drained by the dispatcher between rounds.
  const bus = await WorkerBus.start({ ringBytes: 1 << 24, onFull: "drop" });
  await bus.subscribe("nobody");
  const event = { system: "m", kind: "tick", path: "p/1", data: payload };
  const objectEvent = {
    system: "m",
    kind: "tick",
    path: "p/1",
    data: { id: 12345, name: "entry-abcdef", ok: true },
  };
  const rounds = 50_000;
  const results = {};
  for (const [name, e] of [
    ["64-char string data", event],
    ["no data", { system: "m", kind: "tick", path: "p/1" }],
    ["small object data (msgpackr)", objectEvent],
  ]) {
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 10; round++) {
      await bus.flush();
      const started = process.hrtime.bigint();
      for (let i = 0; i < rounds; i++) bus.send(e);
      best = Math.min(best, Number(process.hrtime.bigint() - started) / rounds / 1000);
    }
    results[name] = best;
    await bus.flush();
  }
  const refused = bus.stats().refused;
  await bus.stop();
  return { ...results, refused };
}

async function latency() {
  const bus = await WorkerBus.start();
  const sub = await bus.subscribe("lat");
  const handle = bus.handle();
  const count = 30_000;
  const publisher = new Worker(
    `import { workerData, parentPort } from "node:worker_threads";
     const { attach } = await import(${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)});
     const bus = attach(workerData.handle);
     const interval = 1000 / workerData.rate;
     const pause = new Int32Array(new SharedArrayBuffer(4));
     let next = performance.now();
     for (let i = 0; i < workerData.count; i++) {
       // Sleep (not spin) until the next slot: a spinning publisher would take a core from the bus.
       const ahead = next - performance.now();
       if (ahead > 0.02) Atomics.wait(pause, 0, 0, ahead);
       next += interval;
       bus.send({ system: "lat", kind: "k", path: "", data: performance.timeOrigin + performance.now() });
     }
     await bus.flush();
     await bus.stop();`,
    { eval: true, workerData: { handle, count, rate: 10_000 }, transferList: [handle.port] },
  );
  const latencies = new Float64Array(count);
  let i = 0;
  for await (const e of sub) {
    latencies[i++] = (performance.timeOrigin + performance.now() - e.data) * 1000;
    if (i === count) break;
  }
  await new Promise((resolve) => publisher.once("exit", resolve));
  await bus.stop();
  const sorted = latencies.slice(count / 10).sort(); // skip warm-up
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(0);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1].toFixed(0) };
}

const bus = await busThroughput(false);
const batched = await busThroughput(true);
const plain = await postMessageThroughput();
console.log(`throughput, 64-byte payload, ${N} events:`);
console.log(`  WorkerBus (ring, dispatcher, delivery ring, for-await):${(bus / 1e6).toFixed(2)} M events/s`);
console.log(
  `  plain postMessage, one message per event:              ${(plain / 1e6).toFixed(2)} M events/s`,
);
console.log(
  `  WorkerBus, subscriber on nextBatch():                  ${(batched / 1e6).toFixed(2)} M events/s`,
);
console.log(
  `  ratio: ${(bus / plain).toFixed(1)}x (for-await), ${(batched / plain).toFixed(1)}x (nextBatch)`,
);
console.log("send() cost with room (µs per event, best of 10 rounds of 50k):", await sendCost());
console.log("latency publish -> subscriber at 10k events/s offered (µs):", await latency());
