import { afterEach, describe, expect, it } from "vitest";
import { closeAll, collect, harness, until } from "./helpers.js";

afterEach(closeAll);

describe("events: subscribe and receive", () => {
  it("delivers matching bus events to a Lua subscription as { system, kind, path, data } tables", async () => {
    const { bus, host, lines } = await harness();
    const proc = host.spawn(
      `
      local sub = assert(events.subscribe("registry", "create"))
      local ch = sub:channel()
      for i = 1, 2 do
        local e, ok = ch:receive()
        print(ok, e.system, e.kind, e.path, e.data and e.data.name, e.data == nil)
      end
      return "done"
      `,
      { name: "receiver" },
    );
    await host.settled();
    bus.send({ system: "registry", kind: "update", path: "skip", data: { name: "no" } });
    bus.send({ system: "registry", kind: "create", path: "a/1", data: { name: "alpha" } });
    bus.send({ system: "registry", kind: "create", path: "a/2" });
    await expect(proc.exited).resolves.toBe("done");
    expect(lines).toEqual([
      "true\tregistry\tcreate\ta/1\talpha\tfalse",
      "true\tregistry\tcreate\ta/2\tnil\ttrue",
    ]);
  });

  it('with matching: "bus", matches with core\'s patterns: wildcards in system and kind, every kind when omitted', async () => {
    const { bus, host, lines } = await harness({ matching: "bus" });
    host.spawn(`
      local a = assert(events.subscribe("registry.*", "entry.(create|delete)"))
      local b = assert(events.subscribe("audit.**"))
      for i = 1, 4 do
        local r = channel.select{ a:channel():case_receive(), b:channel():case_receive() }
        print(r.index, r.value.system, r.value.kind)
      end
    `);
    await host.settled();
    bus.send({ system: "registry.users", kind: "entry.update", path: "" });
    bus.send({ system: "registry.users", kind: "entry.create", path: "" });
    bus.send({ system: "registry", kind: "entry.create", path: "" });
    bus.send({ system: "audit", kind: "anything", path: "" });
    bus.send({ system: "registry.groups", kind: "entry.delete", path: "" });
    bus.send({ system: "audit.login.failed", kind: "x", path: "" });
    await until(() => lines.length === 4, "four events");
    // select takes the first ready case, so only the order within each subscription is fixed.
    expect(lines.filter((line) => line.startsWith("1"))).toEqual([
      "1\tregistry.users\tentry.create",
      "1\tregistry.groups\tentry.delete",
    ]);
    expect(lines.filter((line) => line.startsWith("2"))).toEqual([
      "2\taudit\tanything",
      "2\taudit.login.failed\tx",
    ]);
  });

  it("filters on event.path with a glob or a plain path given as the third argument", async () => {
    const { bus, host, lines } = await harness();
    host.spawn(`
      local sub = assert(events.subscribe("registry", "create", "users/*"))
      for i = 1, 2 do print("glob", sub:receive().path) end
    `);
    host.spawn(`
      local sub = assert(events.subscribe("registry", "create", "users/2"))
      print("plain", sub:receive().path)
    `);
    await host.settled();
    for (const path of ["groups/1", "users/1", "users/1/x", "users/2", "users/22"]) {
      bus.send({ system: "registry", kind: "create", path });
    }
    await until(() => lines.length === 3, "three events");
    expect(lines.filter((line) => line.startsWith("glob"))).toEqual(["glob\tusers/1", "glob\tusers/2"]);
    expect(lines.filter((line) => line.startsWith("plain"))).toEqual(["plain\tusers/2"]);
  });

  it("routes per-entity paths through the index: 300 processes on their own path and a glob each get exactly theirs, in order", async () => {
    const { bus, host } = await harness();
    const entities = 300;
    const count = 1500;
    const target = (n: number) => (n * 7919 + 13) % entities;
    const owed = new Map<number, number[]>();
    for (let n = 0; n < count; n++) owed.set(target(n), [...(owed.get(target(n)) ?? []), n]);
    // A glob with a literal prefix ("user/1*": user/1, user/10-19, user/100-199) beside the literal paths.
    const globbed = [...Array(count).keys()].filter((n) => /^1\d*$/.test(String(target(n))));
    const receive = (path: string, expected: number) => `
      local sub = assert(events.subscribe("chat", "message", "${path}"))
      local seen = {}
      for i = 1, ${expected} do seen[i] = sub:receive().data.n end
      return table.concat(seen, ",")
    `;
    const procs = [...Array(entities).keys()].map((entity) =>
      host.spawn(receive(`user/${entity}`, owed.get(entity)?.length ?? 0)),
    );
    const glob = host.spawn(receive("user/1*", globbed.length));
    await host.settled();
    for (let n = 0; n < count; n++)
      bus.send({ system: "chat", kind: "message", path: `user/${target(n)}`, data: { n } });
    const results = await Promise.all(procs.map((proc) => proc.exited));
    expect(results).toEqual(results.map((_, entity) => (owed.get(entity) ?? []).join(",")));
    await expect(glob.exited).resolves.toBe(globbed.join(","));
    expect(host.stats().delivered).toBe(count + globbed.length);
  });

  it("delivers 10,000 events in order and losslessly to one process", async () => {
    const { bus, host } = await harness();
    const proc = host.spawn(`
      local sub = assert(events.subscribe("load", "tick"))
      local ch = sub:channel()
      local expected = 0
      for i = 1, 10000 do
        local e = ch:receive()
        if e.data.n ~= expected then error("out of order: got " .. e.data.n .. " expected " .. expected) end
        expected = expected + 1
      end
      return expected
    `);
    await host.settled();
    for (let n = 0; n < 10_000; n++) bus.send({ system: "load", kind: "tick", path: "", data: { n } });
    await expect(proc.exited).resolves.toBe(10_000);
    expect(host.stats().delivered).toBe(10_000);
  });

  it("lets the queue of a process that does not receive grow, and shows its length in stats()", async () => {
    const { bus, host } = await harness();
    const proc = host.spawn(`
      local sub = assert(events.subscribe("slow"))
      local inbox = process.inbox()
      inbox:receive()
      local n = 0
      while n < 300 do sub:receive(); n = n + 1 end
      return n
    `);
    await host.settled();
    for (let n = 0; n < 300; n++) bus.send({ system: "slow", kind: "k", path: "" });
    await host.settled();
    const stats = host.stats().perProcess.find((p) => p.pid === proc.pid)!;
    expect(stats.queued).toBe(300);
    expect(stats.subscriptions).toBe(1);
    // A second process wakes the first through its inbox; the backlog is then drained in full.
    host.spawn(`assert(process.send(${proc.pid}, "go"))`);
    await expect(proc.exited).resolves.toBe(300);
  });
});

describe("events: send", () => {
  it("publishes events from Lua on the bus, with data converted to JS", async () => {
    const { bus, host } = await harness();
    const received = await collect(bus, "registry", "accept", 2);
    const proc = host.spawn(`
      assert(events.send("registry", "accept", "users/1", { ok = true, tags = { "a", "b" }, n = 3, x = 1.5 }))
      return events.send("registry", "accept", "users/2")
    `);
    await expect(proc.exited).resolves.toBe(true);
    const events = await received.events();
    expect(events[0]).toEqual({
      system: "registry",
      kind: "accept",
      path: "users/1",
      data: { ok: true, tags: ["a", "b"], n: 3, x: 1.5 },
    });
    expect(events[1]).toEqual({ system: "registry", kind: "accept", path: "users/2" });
    expect("data" in events[1]!).toBe(false);
  });

  it("returns nil and an error when the bus is closed", async () => {
    const { bus, host, lines } = await harness();
    await bus.stop();
    const proc = host.spawn(`print(events.send("a", "b", "c"))`);
    await proc.exited;
    expect(lines).toEqual(["nil\tevents.send: the bus is closed"]);
  });
});

describe("events: close and kill", () => {
  it("sub:close() is idempotent, ends the channel after what was buffered, and stops routing", async () => {
    const { bus, host, lines } = await harness();
    host.spawn(`
      local sub = assert(events.subscribe("c"))
      local first = sub:receive()
      print("first", first.path)
      print(sub:close(), sub:close())
      print(sub:channel():receive())
    `);
    await host.settled();
    bus.send({ system: "c", kind: "k", path: "1" });
    await until(() => lines.length === 3, "three lines");
    expect(lines).toEqual(["first\t1", "true\ttrue", "nil\tfalse"]);
    bus.send({ system: "c", kind: "k", path: "2" });
    await host.settled();
    expect(host.stats().delivered).toBe(1);
  });

  it("kill() rejects exited with LUA_KILLED and removes the process's subscriptions at once", async () => {
    const { bus, host } = await harness();
    const proc = host.spawn(`
      local a = assert(events.subscribe("k1"))
      local b = assert(events.subscribe("k2"))
      channel.select{ a:channel():case_receive(), b:channel():case_receive() }
    `);
    const other = host.spawn(`local s = assert(events.subscribe("k1")); return s:receive().path`);
    await host.settled();
    expect(host.stats().perProcess.find((p) => p.pid === proc.pid)?.subscriptions).toBe(2);
    expect(host.kill(proc.pid)).toBe(true);
    expect(host.kill(proc.pid)).toBe(false);
    await expect(proc.exited).rejects.toMatchObject({ code: "LUA_KILLED", pid: proc.pid });
    expect(host.stats().perProcess.map((p) => p.pid)).toEqual([other.pid]);
    bus.send({ system: "k1", kind: "x", path: "still-routed" });
    await expect(other.exited).resolves.toBe("still-routed");
    expect(host.stats().delivered).toBe(1);
  });

  it("a process that errors loses its subscriptions, and the others go on", async () => {
    const { bus, host } = await harness();
    const failing = host.spawn(
      `local s = assert(events.subscribe("e")); s:receive(); error("fail on purpose")`,
      {
        name: "failing",
      },
    );
    const survivor = host.spawn(
      `local s = assert(events.subscribe("e")); s:receive(); return s:receive().path`,
    );
    await host.settled();
    bus.send({ system: "e", kind: "k", path: "1" });
    await expect(failing.exited).rejects.toMatchObject({ code: "LUA_ERROR", line: 1 });
    bus.send({ system: "e", kind: "k", path: "2" });
    await expect(survivor.exited).resolves.toBe("2");
    expect(host.stats().processes).toBe(0);
  });
});

describe("events: bad values return nil and an INVALID error, a wrong type raises", () => {
  it("checks every argument of subscribe, send and the subscription methods", async () => {
    const { host, lines } = await harness();
    const proc = host.spawn(`
      local function show(...) print(select("#", ...), ...) end
      local function kind(v, err) print(v, err:kind(), err:message()) end
      local function raises(f, ...) print(select(2, pcall(f, ...))) end
      kind(events.subscribe(""))
      raises(events.subscribe, nil)
      raises(events.subscribe, "a", 5)
      kind(events.subscribe("a", nil, ""))
      kind(events.subscribe("(a|b"))
      kind(events.send("", "k", "p"))
      kind(events.send("s", "", "p"))
      kind(events.send("s", "k", ""))
      raises(events.send, "s", "k", 5)
      raises(events.send, "s", "k")
      kind(events.send("s", "k", "p", function() end))
      local sub = assert(events.subscribe("ok"))
      show(sub.channel({}))
      show(sub.close(5))
      show(sub:channel().send(5))
    `);
    await proc.exited;
    expect(lines).toEqual([
      "nil\tINVALID\tevents.subscribe: system must be a non-empty pattern",
      expect.stringMatching(/events\.subscribe: system must be a string, got nil$/),
      expect.stringMatching(/events\.subscribe: kind must be a string or nil, got 5$/),
      "nil\tINVALID\tevents.subscribe: path must be a non-empty glob or nil",
      expect.stringMatching(
        /^nil\tINVALID\tevents\.subscribe: system "\(a\|b" uses the bus's wildcard syntax/,
      ),
      "nil\tINVALID\tevents.send: system must be non-empty",
      "nil\tINVALID\tevents.send: kind must be non-empty",
      "nil\tINVALID\tevents.send: path must be non-empty",
      expect.stringMatching(/events\.send: path must be a string, got 5$/),
      expect.stringMatching(/events\.send: path must be a string, got nil$/),
      "nil\tINVALID\tevents.send: data: a function cannot be converted",
      "2\tnil\tsub:channel: expected a subscription, got a table",
      "2\tnil\tsub:close: expected a subscription, got 5",
      "2\tnil\tch:send: expected a channel, got 5 (call it as ch:send(v))",
    ]);
  });
});
