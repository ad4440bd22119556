import { request } from "node:http";
import { Bus } from "@threadbus/core";
import { WorkerBus } from "@threadbus/worker";
import { afterEach } from "vitest";
import { type Monitor, type MonitoredBus, type MonitorOptions, serveMonitor } from "../src/index.js";

export const quiet = { warn: () => {}, error: () => {} };

/** Both buses the monitor serves, for describe.each. */
export const BUSES: ReadonlyArray<{ name: string; start: () => Promise<MonitoredBus> }> = [
  { name: "Bus", start: async () => new Bus({ logger: quiet }) },
  { name: "WorkerBus", start: () => WorkerBus.start({ logger: quiet }) },
];

/** Starts buses and monitors for one test, and closes every one of them afterwards. */
export function useMonitors() {
  const monitors: Monitor[] = [];
  const buses: MonitoredBus[] = [];
  afterEach(async () => {
    await Promise.all(monitors.splice(0).map((m) => m.close()));
    await Promise.all(buses.splice(0).map((b) => b.stop()));
  });
  return {
    async bus(start: () => Promise<MonitoredBus>): Promise<MonitoredBus> {
      const bus = await start();
      buses.push(bus);
      return bus;
    },
    async monitor(bus: MonitoredBus, options?: MonitorOptions): Promise<Monitor> {
      const monitor = await serveMonitor(bus, options);
      monitors.push(monitor);
      return monitor;
    },
  };
}

export async function getJson<T = Record<string, unknown>>(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

/**
 * The status of a GET sent with exactly these headers (fetch does not let a caller set Host or
 * Sec-Fetch-Site), on its own connection, closed once the head arrives (a /tail would stream on).
 */
export function statusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (response) => {
      resolve(response.statusCode ?? 0);
      req.destroy();
    });
    req.on("error", reject);
    req.end();
  });
}

/** Waits until `check` returns true, polling every 20 ms, for at most `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads server-sent events from a streaming response until `stop` says enough. */
export async function readEvents(
  response: Response,
  stop: (events: Array<{ event: string; data: unknown }>) => boolean,
): Promise<Array<{ event: string; data: unknown }>> {
  const events: Array<{ event: string; data: unknown }> = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!stop(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      let end = text.indexOf("\n\n");
      while (end >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data !== undefined) events.push({ event, data: JSON.parse(data) });
        end = text.indexOf("\n\n");
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return events;
}
