/**
 * The entry of an engine thread (started by EngineThread): connects to the bus, starts the
 * Engine, and relays messages between it and the host.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { EventBus, Logger } from "@threadbus/core";
import { Engine } from "./engine.js";
import { PortBus } from "./port_bus.js";
import type { BusLink, EngineMessage, EngineWorkerData, HostMessage } from "./protocol.js";
import { SharedState } from "./shared_state.js";

const data = workerData as EngineWorkerData;
const port = parentPort!;
const post = (messages: EngineMessage[]) => port.postMessage(messages);
const logger: Logger = {
  warn: (message, ...details) => post([{ type: "log", level: "warn", message: describe(message, details) }]),
  error: (message, ...details) =>
    post([{ type: "log", level: "error", message: describe(message, details) }]),
};

function describe(message: string, details: unknown[]): string {
  const extra = details.map((d) => (d instanceof Error ? d.message : String(d)));
  return [message, ...extra].join(" ");
}

/**
 * A WorkerBus is attached to directly: this thread becomes one of its producers. A send into a
 * full ring returns false (onFull "drop") instead of blocking the thread, which would hold every
 * process of the engine (and look stuck to the watchdog); the script gets `nil, err`.
 */
async function connect(link: BusLink, shared: SharedState): Promise<EventBus> {
  if (link.kind === "port") return new PortBus(link.port, shared);
  const worker = (await import("@threadbus/worker")) as typeof import("@threadbus/worker");
  const handle = { ...link.handle, onFull: "drop" } as unknown as Parameters<typeof worker.attach>[0];
  return worker.attach(handle, logger);
}

try {
  const shared = new SharedState(data.shared, data.config.engines);
  const bus = await connect(data.bus, shared);
  const engine = new Engine(data.config, shared, bus, post);
  port.on("message", (message: HostMessage) => engine.handle(message));
  await engine.start();
} catch (error) {
  post([
    {
      type: "log",
      level: "error",
      message: `threadbus lua: engine ${data.config.index} failed to start: ${describe("", [error])}`,
    },
  ]);
  process.exit(1);
}
