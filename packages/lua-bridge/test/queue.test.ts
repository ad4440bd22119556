import { afterEach, describe, expect, it } from "vitest";
import { closeAll, harness, until } from "./helpers.js";

afterEach(closeAll);

/** A process that subscribes, waits for "go" on its inbox, then reads `count` events. */
function lateReader(count: number): string {
  return `
    local sub = assert(events.subscribe("q"))
    process.inbox():receive()
    local seen = {}
    for i = 1, ${count} do seen[i] = sub:receive().data.n end
    return seen
  `;
}

async function flood(
  options: Parameters<typeof harness>[0],
  sent: number,
  read: number,
): Promise<{ seen: unknown; dropped: number; queued: number; hostDropped: number }> {
  const { bus, host } = await harness(options);
  const reader = host.spawn(lateReader(read));
  await host.settled();
  for (let n = 0; n < sent; n++) bus.send({ system: "q", kind: "k", path: "", data: { n } });
  await host.settled();
  const stats = host.stats();
  const mine = stats.perProcess.find((p) => p.pid === reader.pid)!;
  host.spawn(`process.send(${reader.pid}, "go")`);
  return {
    seen: await reader.exited,
    dropped: mine.dropped,
    queued: mine.queued,
    hostDropped: stats.dropped,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("per-process queues are bounded", () => {
  it('"drop-oldest" (the default) keeps the newest queueSize events and counts the rest', async () => {
    const result = await flood({ queueSize: 50 }, 200, 50);
    expect(result).toMatchObject({ dropped: 150, queued: 50, hostDropped: 150 });
    expect(result.seen).toEqual(range(150, 200));
  });

  it('"drop-newest" keeps the first queueSize events and counts the rest', async () => {
    const result = await flood({ queueSize: 50, queueOverflow: "drop-newest" }, 200, 50);
    expect(result).toMatchObject({ dropped: 150, queued: 50, hostDropped: 150 });
    expect(result.seen).toEqual(range(0, 50));
  });

  it('"block" loses nothing: the relay waits for room, and back-pressure reaches the bus', async () => {
    const { bus, host } = await harness({ queueSize: 16, queueOverflow: "block", relayBufferSize: 16 });
    const reader = host.spawn(`
      local sub = assert(events.subscribe("q"))
      local expected = 0
      for i = 1, 2000 do
        local e = sub:receive()
        if e.data.n ~= expected then error("got " .. e.data.n .. ", expected " .. expected) end
        expected = expected + 1
        if i % 100 == 0 then time.sleep("1ms") end
      end
      return expected
    `);
    const other = host.spawn(`local sub = assert(events.subscribe("q")); return sub:receive().data.n`);
    await host.settled();
    for (let n = 0; n < 2000; n++) {
      bus.send({ system: "q", kind: "k", path: "", data: { n } });
      if (n % 256 === 255) await bus.flush();
    }
    await expect(reader.exited).resolves.toBe(2000);
    await expect(other.exited).resolves.toBe(0);
    expect(host.stats().dropped).toBe(0);
  });

  it('a "block" process that never reads holds its engine\'s relay; killing it releases the others', async () => {
    const { bus, host } = await harness({ queueSize: 4, queueOverflow: "block", relayBufferSize: 4 });
    const stuck = host.spawn(`assert(events.subscribe("q")); process.inbox():receive()`);
    const reader = host.spawn(`
      local sub = assert(events.subscribe("q"))
      local n = 0
      for i = 1, 40 do n = n + sub:receive().data.n end
      return n
    `);
    await host.settled();
    for (let n = 0; n < 40; n++) bus.send({ system: "q", kind: "k", path: "", data: { n } });
    // Not settled(): it waits until every event is routed, which a full "block" queue prevents.
    const queued = () => host.stats().perProcess.find((p) => p.pid === stuck.pid)?.queued;
    await until(() => queued() === 4, "the stuck process's queue to fill");
    expect(host.stats().perProcess.find((p) => p.pid === reader.pid)?.delivered).toBeLessThan(40);
    host.kill(stuck.pid);
    await expect(reader.exited).resolves.toBe((39 * 40) / 2);
  });
});
