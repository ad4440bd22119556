import { describe, expect, it } from "vitest";
import { type SubscriptionRow, TAIL_BUFFER, TAIL_EVENTS_PER_TICK } from "../src/index.js";
import { BUSES, getJson, readEvents, until, useMonitors } from "./support.js";

type Streamed = { event: string; data: unknown };
const busEvents = (events: Streamed[]) =>
  events
    .filter((e) => e.event === "bus")
    .map(
      (e) => e.data as { system: string; kind: string; path: string; data?: unknown; dataHidden?: boolean },
    );

describe.each(BUSES)("monitor live tail on the $name", ({ start }) => {
  const use = useMonitors();

  it("streams only the events matching its filter, payloads hidden by default", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    const response = await fetch(`${monitor.url}tail?system=registry&kind=(create|delete)`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reading = readEvents(response, (events) => busEvents(events).length >= 4);
    // The tail subscribes before answering: wait until its subscription is listed, then publish.
    await until(async () => (await getJson(`${monitor.url}varz`)).body.subscriptions === 1);
    for (const [system, kind] of [
      ["registry", "create"],
      ["registry", "update"],
      ["process", "create"],
      ["registry", "delete"],
      ["registry", "create"],
      ["registry", "entry.create"],
      ["registry", "delete"],
    ])
      bus.send({ system: system!, kind: kind!, path: "p", data: { secret: "hunter2" } });
    const events = await reading;
    expect(events[0]).toMatchObject({
      event: "hello",
      data: { filter: { system: "registry", kind: "(create|delete)" }, showData: false },
    });
    expect(busEvents(events).map((e) => `${e.system} ${e.kind}`)).toEqual([
      "registry create",
      "registry delete",
      "registry create",
      "registry delete",
    ]);
    for (const e of busEvents(events)) {
      expect(e.dataHidden).toBe(true);
      expect(e).not.toHaveProperty("data");
    }
    // Closing the stream removes the tail's subscription.
    await until(async () => (await getJson(`${monitor.url}varz`)).body.subscriptions === 0);
  });

  it("shows payloads when started with showData, and applies a path glob", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus, { showData: true });
    const response = await fetch(`${monitor.url}tail?path=svc/*`);
    const reading = readEvents(response, (events) => busEvents(events).length >= 1);
    await until(async () => (await getJson(`${monitor.url}varz`)).body.subscriptions === 1);
    bus.send({ system: "a", kind: "k", path: "other", data: 1 });
    bus.send({ system: "b", kind: "k", path: "svc/1", data: { n: 2, big: 3n } });
    const [event] = busEvents(await reading);
    expect(event).toMatchObject({ system: "b", path: "svc/1", data: { n: 2, big: "3n" } });
  });

  it("never slows the bus: under a flood it drops into its small buffer and counts what it skipped", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    const response = await fetch(`${monitor.url}tail?system=flood`);
    let sent = 0;
    let checked = false;
    const reading = readEvents(response, (events) => {
      const stats = events.filter((e) => e.event === "stats").at(-1)?.data as
        | { shown: number; droppedByBus: number; sampledOut: number }
        | undefined;
      return (
        checked &&
        stats !== undefined &&
        stats.shown + stats.droppedByBus + stats.sampledOut >= sent &&
        sent > 0
      );
    });
    await until(async () => (await getJson(`${monitor.url}varz`)).body.subscriptions === 1);
    for (let i = 0; i < 20_000; i++) bus.send({ system: "flood", kind: "k", path: `${i}` });
    sent = 20_000;
    await bus.flush();
    // Full by design, the tail is labelled as the monitor's and never marked as the slowest.
    const rows = (await getJson<{ subscriptions: SubscriptionRow[] }>(`${monitor.url}subsz`)).body
      .subscriptions;
    expect(rows.map((r) => [r.monitorTail, r.slowest])).toEqual([[true, false]]);
    checked = true; // the stream may end now (the check above needed the tail open)
    const events = await reading;
    const stats = events.filter((e) => e.event === "stats").at(-1)!.data as {
      shown: number;
      droppedByBus: number;
      sampledOut: number;
    };
    // Every event is accounted for: shown, dropped by the bus (buffer full) or sampled out.
    expect(stats.shown + stats.droppedByBus + stats.sampledOut).toBe(20_000);
    expect(stats.droppedByBus).toBeGreaterThan(0);
    expect(busEvents(events).length).toBe(stats.shown);
    // The buffer bounded what reached the tail: at most a buffer's worth per batch it took.
    expect(stats.shown).toBeLessThanOrEqual(20_000 - stats.droppedByBus);
    expect(stats.shown).toBeLessThan(20_000);
    expect(TAIL_EVENTS_PER_TICK).toBeLessThanOrEqual(TAIL_BUFFER);
    // The bus counts the tail's drops like any subscription's: nothing is lost silently.
    expect(bus.stats().dropped).toBeGreaterThanOrEqual(stats.droppedByBus);
    const varz = (await getJson(`${monitor.url}varz`)).body as {
      monitor: { tailCounters: { droppedByBus: number } };
    };
    expect(varz.monitor.tailCounters.droppedByBus).toBeGreaterThanOrEqual(stats.droppedByBus);
    await until(() => monitor.stats().tails === 0);
    expect(monitor.stats().tail).toMatchObject({ shown: stats.shown, droppedByBus: bus.stats().dropped });
  });

  it("answers HEAD with the filter checked and no stream opened", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    expect((await fetch(`${monitor.url}tail?system=registry`, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(`${monitor.url}tail?system=(a`, { method: "HEAD" })).status).toBe(400);
    expect(bus.stats().subscriptions).toBe(0);
  });

  it("refuses more tails than maxTails with 503", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus, { maxTails: 1 });
    const first = await fetch(`${monitor.url}tail`);
    expect(first.status).toBe(200);
    const second = await getJson<{ error: string }>(`${monitor.url}tail`);
    expect(second.status).toBe(503);
    expect(second.body.error).toBe("at most 1 live tails may stream at once");
    await first.body?.cancel();
  });

  it("ends open tails when the monitor closes", async () => {
    const bus = await use.bus(start);
    const monitor = await use.monitor(bus);
    const response = await fetch(`${monitor.url}tail`);
    const reading = readEvents(response, () => false);
    await until(async () => bus.stats().subscriptions === 1);
    await monitor.close();
    await reading;
    await until(() => bus.stats().subscriptions === 0);
  });
});
