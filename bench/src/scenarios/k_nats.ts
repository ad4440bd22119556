import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Bus, type BusEvent, type Subscription } from "@threadbus/core";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { Unavailable } from "../scenario.js";
import { nowNs } from "../stats.js";

type NatsModule = typeof import("@threadbus/nats");
type NatsBridge = Awaited<ReturnType<NatsModule["NatsBridge"]["start"]>>;

// Loaded on first use, not imported statically: if @threadbus/nats is not built (or broken), this
// scenario is skipped with the reason and the others still run.
const NATS_PACKAGE: string = "@threadbus/nats";

async function loadNats(): Promise<NatsModule> {
  try {
    return (await import(NATS_PACKAGE)) as NatsModule;
  } catch (error) {
    throw new Unavailable(`${NATS_PACKAGE} could not be loaded (${(error as Error).message.split("\n")[0]})`);
  }
}

/** The nats-server binary: $NATS_SERVER_BIN, else the first on PATH, else /usr/sbin (Debian). */
function findNatsServer(): string | null {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "nats-server")),
    "/usr/sbin/nats-server",
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

const MISSING_SERVER = "nats-server not found (set NATS_SERVER_BIN or `apt-get install -y nats-server`)";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** A nats-server of the scenario's own on a free loopback port, ended by pid when done. */
async function startServer(binary: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ["-a", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let log = "";
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (!log.includes("Server is ready")) return;
      child.stderr?.off("data", onData);
      child.stderr?.resume();
      child.off("exit", onExit);
      resolve();
    };
    const onExit = (code: number | null) => reject(new Error(`nats-server exited (${code}):\n${log}`));
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", reject);
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.pid === undefined) return resolve();
      child.once("exit", () => resolve());
      process.kill(child.pid, "SIGTERM");
    });
  return { url: `nats://127.0.0.1:${port}`, stop };
}

/** Counts arrivals; `until(n)` resolves once n have arrived in total. */
class Arrivals {
  count = 0;
  #target = Number.POSITIVE_INFINITY;
  #reached: (() => void) | null = null;

  add(n: number): void {
    this.count += n;
    if (this.count >= this.#target) {
      const reached = this.#reached;
      this.#target = Number.POSITIVE_INFINITY;
      this.#reached = null;
      reached?.();
    }
  }

  until(target: number): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    this.#target = target;
    return new Promise((resolve) => {
      this.#reached = resolve;
    });
  }
}

/** Both subjects keep at most this many events in flight, so neither side buffers without bound. */
const WINDOW = 10_000;
const CHUNK = 500;
const BODY = "x".repeat(32);

/** About 100 bytes on the wire as a one-event message. */
function tick(i: number): BusEvent<{ i: number; body: string }> {
  return { system: "bench", kind: "tick", path: `item/${i}`, data: { i, body: BODY } };
}

/**
 * Sends `count` events, CHUNK at a time, never more than WINDOW ahead of what arrived, and
 * returns events/s from the first send to the last arrival.
 */
async function drive(count: number, send: (i: number) => void, arrivals: Arrivals): Promise<number> {
  const base = arrivals.count;
  const started = nowNs();
  for (let i = 0; i < count; i += CHUNK) {
    const end = Math.min(count, i + CHUNK);
    for (let j = i; j < end; j++) send(j);
    // Yields every chunk (the other side runs on this thread too), and waits while the window is full.
    if (end - (arrivals.count - base) > WINDOW) await arrivals.until(base + end - WINDOW);
    else await new Promise((resolve) => setImmediate(resolve));
  }
  await arrivals.until(base + count);
  return count / ((nowNs() - started) / 1e9);
}

async function drainInto(subscription: Subscription, arrivals: Arrivals): Promise<void> {
  for (let batch = await subscription.nextBatch?.(); batch; batch = await subscription.nextBatch?.()) {
    arrivals.add(batch.length);
  }
}

export const natsScenario: Scenario = {
  id: "k-nats",
  title: "one NATS hop between two buses",
  measures:
    "Events/s from a Bus through NATS to another Bus, both ends in this process, on a nats-server of the scenario's own on loopback, at most 10,000 events in flight. threadbus: send() on bus A, a NatsBridge exporting to NATS, a NatsBridge importing onto bus B, a subscription on B drained with nextBatch(). Peer: raw nats.js pub/sub, two connections, one message per event carrying the event's one-event wire encoding, encoded ahead (the transport alone, the same bytes per event). Payload: { i, body } of about 100 B per event on the wire.",
  async unavailable() {
    if (findNatsServer() === null) return MISSING_SERVER;
    try {
      await loadNats();
      return null;
    } catch (error) {
      if (error instanceof Unavailable) return error.message;
      throw error;
    }
  },
  async run(recorder: CaseRecorder) {
    const nats = await loadNats();
    const binary = findNatsServer();
    if (binary === null) throw new Unavailable(MISSING_SERVER);
    const server = await startServer(binary);
    try {
      const count = recorder.quick ? 20_000 : 200_000;
      const target = recorder.case(
        "k-nats",
        `${count.toLocaleString("en")} events of ~100 B, one hop on loopback, ≤ 10,000 in flight`,
      );
      await recorder.subject(target, {
        subject: "threadbus NatsBridge",
        threadbus: true,
        unit: "events/s",
        async setup() {
          const a = new Bus();
          const b = new Bus();
          const bridges: NatsBridge[] = [
            await nats.NatsBridge.start({ bus: a, servers: server.url, prefix: "kbench", export: ["bench"] }),
            await nats.NatsBridge.start({ bus: b, servers: server.url, prefix: "kbench", import: ["bench"] }),
          ];
          const arrivals = new Arrivals();
          const sink = await b.subscribe("bench", "tick", { bufferSize: 1 << 16 });
          const draining = drainInto(sink, arrivals);
          return { a, b, bridges, arrivals, draining };
        },
        warmup: ({ a, arrivals }) => drive(20_000, (i) => a.send(tick(i)), arrivals),
        async repeat({ a, arrivals, bridges }) {
          const value = await drive(count, (i) => a.send(tick(i)), arrivals);
          const { lost, refused, dropped } = { ...bridges[1]!.stats(), dropped: bridges[0]!.stats().dropped };
          if (lost + refused + dropped > 0)
            throw new Error(`the bridge lost ${lost}, refused ${refused}, dropped ${dropped}`);
          return { value };
        },
        async teardown({ a, b, bridges, draining }) {
          for (const bridge of bridges) await bridge.stop();
          await a.stop();
          await b.stop();
          await draining;
        },
      });
      await recorder.subject(target, {
        subject: "raw nats.js, 1 event per message",
        threadbus: false,
        unit: "events/s",
        async setup() {
          const pub: NatsConnection = await connect({ servers: server.url });
          const sub: NatsConnection = await connect({ servers: server.url });
          const subject = nats.subjectFor("kbench", "bench", "tick");
          const header = { origin: "raw", epoch: 1, system: "bench", kind: "tick" };
          const payloads = Array.from({ length: 1000 }, (_, i) => {
            const event = tick(i);
            return nats.encodeMessage({ ...header, last: i + 1 }, [event.path, event.data]);
          });
          const arrivals = new Arrivals();
          sub.subscribe(subject, { callback: () => arrivals.add(1) });
          await sub.flush();
          const send = (i: number) => pub.publish(subject, payloads[i % 1000]!);
          return { pub, sub, send, arrivals };
        },
        warmup: ({ send, arrivals }) => drive(20_000, send, arrivals),
        repeat: async ({ send, arrivals }) => ({ value: await drive(count, send, arrivals) }),
        async teardown({ pub, sub }) {
          await pub.close();
          await sub.close();
        },
      });
    } finally {
      await server.stop();
    }
  },
};
