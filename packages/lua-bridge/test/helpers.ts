import { Bus, type BusEvent, type EventBus, type Logger } from "@threadbus/core";
import { LuaHost, type LuaHostOptions } from "../src/index.js";

export interface Harness {
  bus: EventBus;
  host: LuaHost;
  /** Every line the scripts printed, in order. */
  lines: string[];
  /** Messages the host logged. */
  logged: string[];
  close(): Promise<void>;
}

const open: Harness[] = [];

/** A fresh in-thread Bus and a LuaHost on it, printing into `lines`. */
export async function harness(
  options: Partial<LuaHostOptions> = {},
  bus: EventBus = new Bus(),
): Promise<Harness> {
  const lines: string[] = [];
  const logged: string[] = [];
  const logger: Logger = {
    warn: (message) => logged.push(String(message)),
    error: (message) => logged.push(String(message)),
  };
  const host = new LuaHost({ bus, print: (line) => lines.push(line), logger, ...options });
  await host.ready;
  const h: Harness = {
    bus,
    host,
    lines,
    logged,
    async close() {
      await host.close();
      await bus.stop();
    },
  };
  open.push(h);
  return h;
}

export async function closeAll(): Promise<void> {
  for (const h of open.splice(0)) await h.close();
}

/** Collects `count` events matching (system, kind) from the bus. Subscribe before triggering. */
export async function collect(bus: EventBus, system: string, kind: string, count: number) {
  const subscription = await bus.subscribe(system, kind, { bufferSize: Math.max(count, 1) });
  return {
    async events(): Promise<BusEvent[]> {
      const out: BusEvent[] = [];
      if (count === 0) return out;
      for await (const event of subscription) {
        out.push(event);
        if (out.length === count) break;
      }
      return out;
    },
  };
}

/** Resolves once `predicate` holds, checking after each turn of the event loop. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
