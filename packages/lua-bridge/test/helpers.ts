import { Bus, type BusEvent, type EventBus, type Logger } from "@threadbus/core";
import { LuaHost, type LuaHostOptions } from "../dist/index.js";

export interface Printed {
  line: string;
  pid: number;
  /** performance.now() when the host's thread got the line. */
  at: number;
}

export interface Harness {
  bus: EventBus;
  host: LuaHost;
  /** Every line the scripts printed, in order. */
  lines: string[];
  /** Every line with who printed it and when. */
  printed: Printed[];
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
  const printed: Printed[] = [];
  const logged: string[] = [];
  const logger: Logger = {
    warn: (message) => logged.push(String(message)),
    error: (message) => logged.push(String(message)),
  };
  const host = new LuaHost({
    bus,
    print: (line, process) => {
      lines.push(line);
      printed.push({ line, pid: process.pid, at: performance.now() });
    },
    logger,
    ...options,
  });
  await host.ready;
  const h: Harness = {
    bus,
    host,
    lines,
    printed,
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

export interface Responsiveness {
  /** Largest gap between two runs of a 10 ms JS timer on the host's thread (ms). */
  timerGapMs: number;
  /** Largest gap between two ticks of the canary process, or before its first / after its last (ms). */
  canaryGapMs: number;
  canaryTicks: number;
}

/**
 * Runs `attack` (it resolves when the attacking process has ended) while a canary process on
 * engine `canaryEngine` prints a tick every 10 ms and a JS timer runs every 10 ms; reports the
 * largest gaps seen while the attack ran. The bar: both keep ticking within 200 ms.
 */
export async function whileAttacking(
  h: Harness,
  canaryEngine: number,
  attack: () => Promise<void>,
): Promise<Responsiveness> {
  const canary = h.host.spawn(`while true do time.sleep("10ms") print("tick") end`, {
    name: "canary",
    engine: canaryEngine,
  });
  const ticks = () => h.printed.filter((p) => p.pid === canary.pid).map((p) => p.at);
  await until(() => ticks().length >= 3, "the canary to tick");
  let timerGapMs = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    timerGapMs = Math.max(timerGapMs, now - last);
    last = now;
  }, 10);
  const started = performance.now();
  try {
    await attack();
  } finally {
    clearInterval(timer);
  }
  const ended = performance.now();
  // Let the canary report a tick after the attack, so a stall at its very end counts too.
  await until(() => ticks().some((at) => at > ended), "a canary tick after the attack");
  const during = [started, ...ticks().filter((at) => at > started && at <= ended), ended];
  let canaryGapMs = 0;
  for (let i = 1; i < during.length; i++) canaryGapMs = Math.max(canaryGapMs, during[i]! - during[i - 1]!);
  h.host.kill(canary.pid);
  return { timerGapMs, canaryGapMs, canaryTicks: during.length - 2 };
}
