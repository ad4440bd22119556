import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Bus, Subscriber } from "@threadbus/core";
import { NatsBridge, type NatsBridgeStats } from "@threadbus/nats";
import { runMachineB } from "./machine_b.js";
import { type OwnServer, startOwnServer } from "./nats_server.js";

// Two "machines" (two processes) share registry events through one NATS server:
// A publishes registry entries; B keeps a replica and answers each event with `audit seen`,
// which comes back to A through the same server.

const ENTRIES = 200;

interface Report {
  type: "report";
  replicaSize: number;
  stats: NatsBridgeStats;
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string }) => {
      if (message.type !== type) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`machine B exited (${code}) before '${type}'`));
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

async function runMachineA(): Promise<void> {
  const server: OwnServer | null = process.env.NATS_URL ? null : await startOwnServer();
  const url = server?.url ?? process.env.NATS_URL!;
  console.log(`NATS at ${url}${server ? " (our own nats-server, loopback only)" : " (NATS_URL)"}`);
  const child = fork(fileURLToPath(import.meta.url), ["machine-b"], {
    env: { ...process.env, NATS_URL: url },
  });
  const deadline = setTimeout(() => {
    console.error("example timed out after 25 s");
    child.kill("SIGKILL");
    void server?.stop().then(() => process.exit(1));
  }, 25_000);
  try {
    await nextMessage(child, "ready");
    const bus = new Bus();
    const bridge = await NatsBridge.start({
      bus,
      servers: url,
      prefix: "example",
      export: ["registry"],
      import: [{ system: "audit", kind: "seen" }],
    });
    let seen = 0;
    let allSeen: () => void = () => {};
    const everythingSeen = new Promise<void>((resolve) => {
      allSeen = resolve;
    });
    const audit = await Subscriber.start(bus, "audit", "seen", () => {
      if (++seen === ENTRIES * 2 + ENTRIES / 2) allSeen();
    });

    for (let i = 0; i < ENTRIES; i++) {
      bus.send({ system: "registry", kind: "entry.create", path: `service/${i}`, data: { port: 8000 + i } });
    }
    for (let i = 0; i < ENTRIES; i++) {
      bus.send({ system: "registry", kind: "entry.update", path: `service/${i}`, data: { port: 9000 + i } });
    }
    for (let i = 0; i < ENTRIES / 2; i++)
      bus.send({ system: "registry", kind: "entry.delete", path: `service/${i}` });
    await everythingSeen;

    child.send({ cmd: "report" });
    const report = await nextMessage<Report>(child, "report");
    await audit.close();
    await bridge.stop();
    await bus.stop();
    const a = bridge.stats();
    console.log(`machine A: exported ${a.exported} registry events, imported ${a.imported} audit events`);
    console.log(
      `machine B: replica holds ${report.replicaSize} entries (expected ${ENTRIES / 2}); imported ${report.stats.imported}, exported ${report.stats.exported}`,
    );
    const lossless = [a, report.stats].every((s) => s.dropped === 0 && s.lost === 0 && s.badMessages === 0);
    console.log(`dropped/lost/bad on both sides: ${lossless ? "none" : "SOME (see stats)"}`);
    if (!lossless || report.replicaSize !== ENTRIES / 2) process.exitCode = 1;
  } finally {
    clearTimeout(deadline);
    if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
    await server?.stop();
  }
}

if (process.argv[2] === "machine-b") {
  await runMachineB(process.env.NATS_URL!);
} else {
  await runMachineA();
}
