import { Bus, type EventBus } from "@threadbus/core";
import { WorkerBus } from "@threadbus/worker";
import { afterEach, describe, expect, it } from "vitest";
import { closeAll, harness } from "./helpers.js";

afterEach(closeAll);

/** A small seeded generator, so a failing round can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function shuffled(count: number, next: () => number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * A ring member: waits for its neighbour's pid, then passes the token on `laps` times; the member
 * told to start sends it first.
 */
const member = (laps: number): string => `
  local inbox = process.inbox()
  -- The token can overtake the setup (it comes from another process): keep it for later.
  local early, next_pid, starter = {}, nil, nil
  while not next_pid do
    local msg = inbox:receive()
    if msg:topic() == "setup" then next_pid, starter = msg[1], msg[2] else early[#early + 1] = msg end
  end
  local function take() return table.remove(early, 1) or inbox:receive() end
  local last = 0
  if starter then assert(process.send(next_pid, "token", 0)) end
  for lap = 1, ${laps} do
    local msg = take()
    last = msg[1] + 1
    if not (starter and lap == ${laps}) then assert(process.send(next_pid, "token", last)) end
  end
  return last
`;

/** Learns the ring's pids from a bus event and tells each member its neighbour at once. */
const coordinator = `
  local sub = assert(events.subscribe("ring"))
  local pids = {}
  for pid in sub:receive().path:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
  for i, pid in ipairs(pids) do
    assert(process.send(pid, "setup", pids[i % #pids + 1], i == 1))
  end
  return #pids
`;

describe("process.send", () => {
  it("stress: rings spawned in random order on 1-3 engines lose no token, also to processes still starting", async () => {
    const rounds = 20;
    const count = 60;
    const laps = 3;
    // A WorkerBus delivers events to an engine on its own path, not behind the host's spawn
    // messages: there the coordinator often learns pids whose spawn has not reached their engine.
    const buses: EventBus[] = [new Bus(), await WorkerBus.start()];
    try {
      for (let round = 0; round < rounds; round++) {
        const seed = 0x5eed + round;
        const next = random(seed);
        const engines = 1 + (round % 3);
        const bus = buses[round % 2]!;
        const where = `seed ${seed}, ${engines} engines, ${round % 2 ? "WorkerBus" : "Bus"}`;
        const { host } = await harness({ engines }, bus);
        const boss = host.spawn(coordinator, { engine: 0 });
        await host.settled();
        const members = shuffled(count, next).map((position) => ({
          position,
          proc: host.spawn(member(laps), { engine: Math.floor(next() * engines) }),
        }));
        const ring = [...members].sort((a, b) => a.position - b.position);
        bus.send({ system: "ring", kind: "pids", path: ring.map((m) => m.proc.pid).join(",") });
        await expect(boss.exited, where).resolves.toBe(count);
        const results = await Promise.all(ring.map((m) => m.proc.exited));
        expect(results[0], where).toBe(count * laps);
        expect(results[count - 1], where).toBe(count * laps - 1);
        await host.settled();
        expect(host.stats(), where).toMatchObject({ processes: 0, messagesLost: 0 });
        await host.close();
      }
    } finally {
      await Promise.all(buses.map((bus) => bus.stop()));
    }
  }, 120_000);

  it("a message to a process whose spawn has not reached its engine yet is held and delivered first, in order", async () => {
    // The sender keeps its engine busy, so the receiver's spawn, posted meanwhile, waits in the
    // engine's port when the sender sends to it.
    const { host } = await harness({
      engines: 1,
      timeSliceMs: 5000,
      watchdogMs: 20_000,
      instructionBudget: 1e9,
    });
    const sender = host.spawn(`
      local t0 = time.now()
      while time.now():sub(t0):milliseconds() < 600 do end
      for i = 1, 5 do assert(process.send(process.pid() + 1, "n", i)) end
      return true
    `);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const receiver = host.spawn(`
      local got = {}
      for i = 1, 5 do got[i] = process.inbox():receive()[1] end
      return table.concat(got, ",")
    `);
    expect(receiver.pid).toBe(sender.pid + 1);
    await expect(sender.exited).resolves.toBe(true);
    await expect(receiver.exited).resolves.toBe("1,2,3,4,5");
  });

  it("refuses with nil, err a pid never handed out and a process that has exited, on its engine or another", async () => {
    const { host, lines } = await harness({ engines: 2 });
    const here = host.spawn("return 1", { engine: 0 });
    const there = host.spawn("return 1", { engine: 1 });
    await Promise.all([here.exited, there.exited]);
    const sender = host.spawn(
      `
      print(process.send(${here.pid}, "t", 1))
      print(process.send(${there.pid}, "t", 1))
      print(process.send(99999, "t", 1))
      print(process.send(0, "t", 1))
      return true`,
      { engine: 0 },
    );
    await expect(sender.exited).resolves.toBe(true);
    expect(lines).toEqual([
      `nil\tprocess.send: process ${here.pid} has exited`,
      `nil\tprocess.send: process ${there.pid} has exited`,
      "nil\tprocess.send: no process 99999",
      "nil\tprocess.send: no process 0",
    ]);
    await host.settled();
    expect(host.stats().messagesLost).toBe(0);
  });

  it("every accepted message to a process on another engine that exits meanwhile is received or counted as lost", async () => {
    const { host } = await harness({ engines: 2 });
    for (let round = 0; round < 5; round++) {
      // The receiver takes 20 messages and ends while the sender on another engine goes on.
      const receiver = host.spawn(
        `local inbox = process.inbox()
         for i = 1, 20 do inbox:receive() end
         return 20`,
        { engine: 1 },
      );
      const sender = host.spawn(
        `local accepted, refused = 0, 0
         for i = 1, 3000 do
           local ok, err = process.send(${receiver.pid}, "n", i)
           if ok then accepted = accepted + 1
           else
             assert(err:message() == "process.send: process ${receiver.pid} has exited", tostring(err))
             refused = refused + 1
           end
           if i % 50 == 0 then time.sleep(0) end
         end
         return { accepted = accepted, refused = refused }`,
        { engine: 0 },
      );
      const lostBefore = host.stats().messagesLost;
      const [received, sent] = (await Promise.all([receiver.exited, sender.exited])) as [
        number,
        { accepted: number; refused: number },
      ];
      await host.settled();
      const lost = host.stats().messagesLost - lostBefore;
      expect(sent.accepted + sent.refused).toBe(3000);
      // Messages left in the receiver's inbox when it returned count as lost too (its inbox ends with it).
      expect(received + lost).toBe(sent.accepted);
    }
  });
});
