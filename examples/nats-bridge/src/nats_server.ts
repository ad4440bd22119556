import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

/** A nats-server of our own on a loopback port; stop() ends it (SIGTERM), kill() at once (SIGKILL), by pid. */
export interface OwnServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

function findBinary(): string | null {
  const dirs = (process.env.PATH ?? "").split(delimiter);
  for (const candidate of [...dirs.map((dir) => join(dir, "nats-server")), "/usr/sbin/nats-server"]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

export function freePort(): Promise<number> {
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

/** Starts nats-server on 127.0.0.1 (a free port unless given), with `args` added to its command line. */
export async function startOwnServer(args: readonly string[] = [], port?: number): Promise<OwnServer> {
  const binary = findBinary();
  if (binary === null) {
    throw new Error("nats-server not found: install it (apt-get install -y nats-server) or set NATS_URL");
  }
  const clientPort = port ?? (await freePort());
  const child: ChildProcess = spawn(binary, ["-a", "127.0.0.1", "-p", String(clientPort), ...args], {
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
  });
  const pid = child.pid!;
  const end = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      process.kill(pid, signal);
    });
  return {
    url: `nats://127.0.0.1:${clientPort}`,
    pid,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}
