import { Bus, type BusEvent, Subscriber } from "@threadbus/core";
import { NatsBridge } from "@threadbus/nats";

/**
 * "Machine B": keeps a replica of the registry it hears about through NATS and answers every
 * registry event with an `audit seen` event that travels back to machine A.
 */
export async function runMachineB(url: string): Promise<void> {
  const bus = new Bus();
  const bridge = await NatsBridge.start({
    bus,
    servers: url,
    prefix: "example",
    import: ["registry"],
    export: [{ system: "audit", kind: "seen" }],
  });
  const replica = new Map<string, unknown>();
  const subscriber = await Subscriber.start(bus, "registry", "", (event: BusEvent) => {
    if (event.kind === "entry.delete") replica.delete(event.path);
    else replica.set(event.path, event.data);
    bus.send({ system: "audit", kind: "seen", path: event.path, data: { kind: event.kind } });
  });
  const send = (message: unknown) => process.send?.(message);
  process.on("message", async (message: { cmd: string }) => {
    if (message.cmd !== "report") return;
    await bridge.flush();
    send({ type: "report", replicaSize: replica.size, stats: bridge.stats() });
    await subscriber.close();
    await bridge.stop();
    await bus.stop();
    process.disconnect?.();
  });
  send({ type: "ready", origin: bridge.origin });
}
