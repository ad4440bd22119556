import { describe, expect, it } from "vitest";
import type { SubscriptionRow } from "../src/index.js";
import { BUSES, getJson, until, useMonitors } from "./support.js";

describe.each(BUSES)("monitor JSON endpoints on the $name", ({ name, start }) => {
  const use = useMonitors();

  it("/varz gives totals, rates, queue, uptime, match cache and fan-out", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus, { sampleIntervalMs: 100 });
    const sub = await bus.subscribe("registry", "**", { bufferSize: 10_000 });
    await bus.subscribe("registry", "create");
    for (let i = 0; i < 50; i++)
      bus.send({ system: "registry", kind: i % 2 ? "create" : "delete", path: `${i}` });
    await bus.flush();
    await until(async () => (await getJson(`${monitor.url}varz`)).body.eventsRead === 50);
    const { status, body, headers } = await getJson(`${monitor.url}varz`);
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(body).toMatchObject({
      bus: name,
      stats: { sent: 50, delivered: 75, dropped: 0, subscriptions: 2 },
      subscriptions: 2,
      clients: 1,
      blockedOn: null,
      eventsRead: 50,
      monitor: { showData: false, tails: 0, sampleIntervalMs: 100 },
    });
    expect(body.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(body.fanOut).toBeCloseTo(75 / 50);
    const cache = body.matchCache as { hits: number; misses: number; hitRate: number };
    expect(cache.hits + cache.misses).toBe(50);
    expect(cache.hitRate).toBeCloseTo(48 / 50);
    expect((body.queue as { unit: string }).unit).toBe(name === "Bus" ? "actions" : "bytes");
    // The sampler saw the 50 sends in some interval: a rate above zero at some point.
    await until(async () => {
      const history = (await getJson(`${monitor.url}history?seconds=60`)).body as { sentPerSecond: number[] };
      return history.sentPerSecond.some((rate) => rate > 0);
    });
    expect(sub.stats().delivered).toBe(50);
  });

  it("/subsz pages and sorts by pending, delivered, dropped and id, with policy, thread and patterns", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    const a = await bus.subscribe("a", "", { bufferSize: 100 });
    const b = await bus.subscribe("(a|b)", "x.*", { bufferSize: 2, overflow: "drop-newest", path: "p/**" });
    const c = await bus.subscribe("**", "", { bufferSize: 1000, overflow: "drop-oldest" });
    for (let i = 0; i < 10; i++) bus.send({ system: "a", kind: "x.y", path: "p/1" });
    for (let i = 0; i < 5; i++) bus.send({ system: "c", kind: "k", path: "" });
    await bus.flush();
    const page = async (query: string) =>
      (await getJson<{ total: number; subscriptions: SubscriptionRow[] }>(`${monitor.url}subsz?${query}`))
        .body;
    const byPending = await page("sort=pending");
    expect(byPending.total).toBe(3);
    expect(byPending.subscriptions.map((s) => [s.id, s.pending])).toEqual([
      [c.id, 15],
      [a.id, 10],
      [b.id, 2],
    ]);
    expect(byPending.subscriptions[2]).toMatchObject({
      system: "(a|b)",
      kind: "x.*",
      path: "p/**",
      overflow: "drop-newest",
      bufferSize: 2,
      dropped: 8,
      client: 0,
      fill: 1,
      monitorTail: false,
    });
    expect((await page("sort=dropped&limit=1")).subscriptions.map((s) => s.id)).toEqual([b.id]);
    expect((await page("sort=delivered&order=asc")).subscriptions.map((s) => s.id)).toEqual([
      b.id,
      a.id,
      c.id,
    ]);
    expect((await page("sort=id&order=asc&offset=1&limit=5")).subscriptions.map((s) => s.id)).toEqual([
      b.id,
      c.id,
    ]);
    expect((await page("offset=10")).subscriptions).toEqual([]);
  });

  it("/subsz marks the subscription the dispatcher is blocked on, and the fullest one once half full", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    const quarter = await bus.subscribe("q", "", { bufferSize: 8, overflow: "drop-newest" });
    for (let i = 0; i < 2; i++) bus.send({ system: "q", kind: "k", path: "" });
    await bus.flush();
    const rows = async () =>
      (await getJson<{ subscriptions: SubscriptionRow[] }>(`${monitor.url}subsz?sort=id&order=asc`)).body
        .subscriptions;
    // A quarter full is a burst being absorbed, not a subscriber falling behind.
    expect((await rows()).map((r) => [r.id, r.slowest, r.blocked])).toEqual([[quarter.id, false, false]]);
    const stuck = await bus.subscribe("s", "", { bufferSize: 2 });
    for (let i = 0; i < 3; i++) bus.send({ system: "s", kind: "k", path: "" });
    await until(async () => (await rows()).some((r) => r.blocked));
    expect((await rows()).map((r) => [r.id, r.slowest, r.blocked, r.fill])).toEqual([
      [quarter.id, false, false, 0.25],
      [stuck.id, true, true, 1],
    ]);
    await stuck.close();
  });

  it("/connz lists the threads with their subscription counts and sends", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    await bus.subscribe("a");
    await bus.subscribe("b");
    for (let i = 0; i < 3; i++) bus.send({ system: "a", kind: "k", path: "" });
    await bus.flush();
    const { body } = await getJson(`${monitor.url}connz?sort=sent`);
    expect(body).toMatchObject({
      total: 1,
      sort: "sent",
      clients: [{ client: 0, subscriptions: 2, sent: 3, refused: 0 }],
    });
  });

  it("/match answers which subscriptions would receive an event, path globs included", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    const all = await bus.subscribe("registry", "**");
    const create = await bus.subscribe("registry", "(create|delete)");
    const svc = await bus.subscribe("registry.*", "create");
    const paths = await bus.subscribe("**", "create", { path: "svc/*" });
    await bus.subscribe("process");
    const ids = async (query: string) =>
      (
        await getJson<{ matches: Array<{ id: string; pathMatches: boolean | null }> }>(
          `${monitor.url}match?${query}`,
        )
      ).body.matches;
    expect((await ids("system=registry&kind=create")).map((m) => [m.id, m.pathMatches])).toEqual([
      [all.id, true],
      [create.id, true],
      [paths.id, null],
    ]);
    expect((await ids("system=registry&kind=create&path=svc/1")).map((m) => m.id)).toEqual([
      all.id,
      create.id,
      paths.id,
    ]);
    expect((await ids("system=registry&kind=create&path=other")).map((m) => m.id)).toEqual([
      all.id,
      create.id,
    ]);
    expect((await ids("system=registry.eu&kind=create&path=x")).map((m) => m.id)).toEqual([svc.id]);
    expect(await ids("system=nobody&kind=update")).toEqual([]);
  });

  it("answers bad query parameters with 400 and a clear message, and unknown pages with 404", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    for (const [path, message] of [
      ["subsz?sort=size", "query parameter 'sort' must be one of pending, delivered, dropped, fill, id"],
      ["subsz?limit=-1", "query parameter 'limit' must be an integer from 0 to 1000"],
      ["subsz?limit=5000", "query parameter 'limit' must be an integer from 0 to 1000"],
      ["subsz?offset=abc", "query parameter 'offset' must be an integer from 0 to 1000000"],
      ["subsz?limit=1&limit=2", "query parameter 'limit' is given more than once"],
      ["connz?sort=pending", "query parameter 'sort' must be one of subscriptions, sent, refused, client"],
      ["match?kind=create", "query parameter 'system' "],
      ["match?system=a&kind=", "query parameter 'kind' is required: the kind of the event to test"],
      [`match?system=${"s".repeat(300)}&kind=k`, "query parameter 'system' must be at most 256 characters"],
      ["varz?verbose=1", "unknown query parameter 'verbose'"],
      ["history?seconds=1e3", "query parameter 'seconds' must be an integer"],
      ["tail?system=(a", "bad tail filter: "],
      ["tail?system=a&path=", "query parameter 'path' must be a non-empty path glob"],
      ["tail?pattern=a", "unknown query parameter 'pattern' (this endpoint takes: system, kind, path)"],
    ]) {
      const { status, body } = await getJson<{ error: string }>(`${monitor.url}${path}`);
      expect(status, path).toBe(400);
      expect(body.error, path).toContain(message);
    }
    const missing = await getJson<{ error: string }>(`${monitor.url}nope`);
    expect(missing.status).toBe(404);
    // The server is still up and answering after all that.
    expect((await fetch(`${monitor.url}varz`)).status).toBe(200);
  });

  it("is read-only: every method but GET and HEAD gets 405, and nothing changes", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    await bus.subscribe("a");
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const response = await fetch(`${monitor.url}subsz`, {
        method,
        body: method === "DELETE" ? null : "{}",
      });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
    }
    expect(bus.stats().subscriptions).toBe(1);
    const head = await fetch(`${monitor.url}varz`, { method: "HEAD" });
    expect(head.status).toBe(200);
  });

  it("answers 503, not a hang, once the bus has stopped", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    await bus.stop();
    const { status, body } = await getJson<{ error: string }>(`${monitor.url}subsz`);
    expect(status).toBe(503);
    expect(body.error).toBe("the bus is stopped");
    expect((await getJson(`${monitor.url}history`)).status).toBe(200);
  });
});
