import { type ClientRequest, request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { MonitoredBus } from "../src/index.js";
import { BUSES, until, useMonitors } from "./support.js";

/** Room for hundreds of test connections, so the tail limit is what answers them, not the connection cap. */
const ROOM = { maxConnections: 1024 };
const TAILS = 300;

/** A /tail request on its own connection; settles with the status once the head arrives (0 if it failed). */
function openTail(url: string, requests: ClientRequest[], query = ""): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${url}tail${query}`, { agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
    requests.push(req);
    req.end();
  });
}

/** Keeps the bus saturated with events every tail matches, yielding to the event loop between batches. */
function flood(bus: MonitoredBus): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) {
      for (let i = 0; i < 2000 && running; i++) {
        try {
          bus.send({ system: "flood", kind: "k", path: "" });
        } catch {
          // A full ring refuses (BusFullError): the flood only needs the bus busy.
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

describe.each(BUSES)("monitor bounds under concurrency on the $name", ({ start }) => {
  const use = useMonitors();
  const requests: ClientRequest[] = [];
  const floods: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(floods.splice(0).map((stop) => stop()));
    for (const req of requests.splice(0)) req.destroy();
  });

  it(`opens at most maxTails tails when ${TAILS} arrive at once, and refuses the rest with 503`, async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus, { maxTails: 4, ...ROOM });
    const statuses = await Promise.all(Array.from({ length: TAILS }, () => openTail(monitor.url, requests)));
    expect(statuses.filter((s) => s === 200).length).toBe(4);
    expect(statuses.filter((s) => s === 503).length).toBe(TAILS - 4);
    expect(monitor.stats().tails).toBe(4);
    expect(bus.stats().subscriptions).toBe(4);
    expect(monitor.stats().refused.tails).toBe(TAILS - 4);
  });

  it("removes the subscription of every tail whose client left, even mid-subscribe and with the bus saturated", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus, { maxTails: 64, ...ROOM });
    floods.push(flood(bus));
    // A filter nothing in the flood matches: no event wakes these tails, only their client leaving.
    const opening = Array.from({ length: TAILS }, () => openTail(monitor.url, requests, "?system=quiet"));
    // Every client leaves at once, as soon as one tail streams: most while their subscribe is on its way.
    await until(() => monitor.stats().tails > 0, 10_000);
    for (const req of requests.splice(0)) req.destroy();
    await Promise.all(opening);
    await until(() => monitor.stats().tails === 0 && monitor.stats().opening === 0, 10_000);
    await until(() => bus.stats().subscriptions === 0, 10_000);
    // The slots are free again: a new client gets its tail.
    expect(await openTail(monitor.url, requests)).toBe(200);
  });

  it("close() settles in bounded time with tails streaming and more opening, the bus saturated", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus, { maxTails: 64, ...ROOM });
    floods.push(flood(bus));
    const opening = Array.from({ length: 100 }, () => openTail(monitor.url, requests));
    await until(() => monitor.stats().tails > 0, 10_000);
    const started = Date.now();
    const closed = await Promise.race([
      monitor.close().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 5000)),
    ]);
    expect(closed, `close() had not settled after ${Date.now() - started} ms`).toBe(true);
    await Promise.all(opening);
    // Subscribes the monitor aborted may still land on the bus after close(): each is removed then.
    await until(() => monitor.stats().tails === 0 && monitor.stats().opening === 0, 10_000);
    await until(() => bus.stats().subscriptions === 0, 10_000);
  });
});
