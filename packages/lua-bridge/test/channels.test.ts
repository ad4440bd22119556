import { afterEach, describe, expect, it } from "vitest";
import { closeAll, harness, until } from "./helpers.js";

afterEach(closeAll);

describe("channels", () => {
  it("select over two channels returns { channel, value, ok } of the case that fired, without blocking Node", async () => {
    const { host, lines } = await harness();
    const proc = host.spawn(`
      local a, b = channel.new(4), channel.new(4)
      process.spawn_source([[
        local inbox = process.inbox()
        local msg = inbox:receive()
        local a, b = msg[1], msg[2]
        time.sleep("5ms")
        b:send("from b")
        time.sleep("5ms")
        a:send("from a")
        a:close()
      ]], "feeder")
      local feeder = process.pid() + 1
      assert(process.send(feeder, "channels", a, b))
      for i = 1, 3 do
        local r = channel.select{ a:case_receive(), b:case_receive() }
        print(r.channel == a and "a" or r.channel == b and "b", r.value, r.ok, r.index)
      end
      return "selected"
    `);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await expect(proc.exited).resolves.toBe("selected");
    clearInterval(timer);
    expect(lines).toEqual(["b\tfrom b\ttrue\t2", "a\tfrom a\ttrue\t1", "a\tnil\tfalse\t1"]);
    expect(ticks).toBeGreaterThan(0);
  });

  it("an unbuffered channel hands values from a sender to a receiver, both blocking in turn", async () => {
    const { host, lines } = await harness();
    host.spawn(`
      local ch = channel.new(0)
      local me = process.pid()
      process.spawn_source([[
        local ch = process.inbox():receive()[1]
        for i = 1, 3 do print("recv", ch:receive()) end
      ]])
      process.send(me + 1, "ch", ch)
      for i = 1, 3 do print("send", i, ch:send(i)) end
    `);
    await until(() => lines.length === 6, "six lines");
    expect(lines.filter((l) => l.startsWith("recv"))).toEqual([
      "recv\t1\ttrue",
      "recv\t2\ttrue",
      "recv\t3\ttrue",
    ]);
    expect(lines.filter((l) => l.startsWith("send"))).toEqual([
      "send\t1\ttrue",
      "send\t2\ttrue",
      "send\t3\ttrue",
    ]);
  });

  it("close lets receivers drain the buffer, then returns nil, false; send on a closed channel raises", async () => {
    const { host } = await harness();
    const proc = host.spawn(`
      local ch = channel.new(3)
      ch:send("x"); ch:send(nil)
      print(ch:close(), ch:close())
      local out = {}
      for i = 1, 3 do local v, ok = ch:receive(); out[#out + 1] = tostring(v) .. "/" .. tostring(ok) end
      local sent, err = pcall(ch.send, ch, 1)
      return table.concat(out, " ") .. " | " .. tostring(sent) .. " " .. err
    `);
    await expect(proc.exited).resolves.toMatch(
      /^x\/true nil\/true nil\/false \| false .*ch:send: the channel is closed$/,
    );
  });

  it("a sender blocked on a full channel is released with an error raised when the channel closes", async () => {
    const { host, lines } = await harness();
    host.spawn(`
      local ch = channel.new(1)
      assert(ch:send(1))
      process.spawn_source([[ local ch = process.inbox():receive()[1]; time.sleep("5ms"); ch:close() ]])
      process.send(process.pid() + 1, "ch", ch)
      print(pcall(ch.send, ch, 2))
    `);
    await until(() => lines.length === 1, "one line");
    expect(lines).toEqual([
      expect.stringMatching(/^false\t.*ch:send: the channel was closed while sending$/),
    ]);
  });

  it("checks the arguments of channel.new, select and the channel methods", async () => {
    const { host, lines } = await harness();
    const proc = host.spawn(`
      local function show(...) print(select("#", ...), ...) end
      show(channel.new(-1))
      show(channel.new(1.5))
      show(channel.new("3"))
      show(channel.select(5))
      show(channel.select({}))
      show(channel.select({ 5 }))
      local ch = channel.new(1)
      show(ch.receive(5))
      show(ch.case_receive({}))
      show(ch.close("x"))
    `);
    await proc.exited;
    expect(lines).toEqual([
      "2\tnil\tchannel.new: size must be a non-negative integer, got -1",
      "2\tnil\tchannel.new: size must be a non-negative integer, got 1.5",
      '2\tnil\tchannel.new: size must be a non-negative integer, got "3"',
      "2\tnil\tchannel.select: expected a list of cases like { ch:case_receive() }, got 5",
      "2\tnil\tchannel.select: expected at least one case",
      "2\tnil\tchannel.select: case 1 is 5, not a case (make one with ch:case_receive())",
      "2\tnil\tch:receive: expected a channel, got 5 (call it as ch:receive())",
      "2\tnil\tch:case_receive: expected a channel, got a table",
      '2\tnil\tch:close: expected a channel, got "x"',
    ]);
  });
});

describe("processes", () => {
  it("process.send reaches the inbox as Message objects, or process.listen(topic) as payloads", async () => {
    const { host, lines } = await harness();
    const receiver = host.spawn(`
      local pings = process.listen("ping")
      local full = process.listen("full", { message = true })
      local inbox = process.inbox()
      print("ping", pings:receive())
      local m = full:receive()
      print(m:topic(), m:from(), m.n, m[1], m[2], m:payload():data())
      local other = inbox:receive()
      print(other:topic(), other:payload():data())
    `);
    await host.settled();
    host.spawn(`
      assert(process.send(${receiver.pid}, "note", "hello"))
      assert(process.send("${receiver.pid}", "ping", 1, "two"))
      assert(process.send(${receiver.pid}, "full", 1, "two"))
      print(process.send(9999, "ping"))
      print(process.send("x", "ping"))
      print(process.send(${receiver.pid}, "@inbox"))
      print(process.pid())
    `);
    await receiver.exited;
    expect(lines).toEqual([
      "nil\tprocess.send: no process 9999",
      'nil\tprocess.send: destination must be a pid (a string like "17", or an integer), got "x"',
      "nil\tprocess.send: topics starting with @ are reserved",
      String(receiver.pid + 1),
      "ping\t1\ttrue",
      `full\t${receiver.pid + 1}\t2\t1\ttwo\t1`,
      "note\thello",
    ]);
  });

  it("process.spawn_source starts a child from source, returning its pid, or nil and the compile error", async () => {
    const { host, lines } = await harness();
    const proc = host.spawn(`
      local child = assert(process.spawn_source("process.send(" .. process.pid() .. ", 'hi', process.pid())", "kid"))
      local msg = process.inbox():receive()
      assert(msg:from() == child and msg[1] == child)
      print(process.spawn_source("this is not lua"))
      return child
    `);
    const child = await proc.exited;
    expect(child).toBe(String(proc.pid + 1));
    expect(lines[0]).toMatch(/^nil\tprocess\.spawn_source: .*syntax error near 'is'/);
  });

  it("time.sleep yields without blocking, and other processes run meanwhile", async () => {
    const { host, lines } = await harness();
    host.spawn(`time.sleep("30ms"); print("slept")`);
    host.spawn(`print("ran while the other slept")`);
    await until(() => lines.length === 2, "two lines");
    expect(lines).toEqual(["ran while the other slept", "slept"]);
    const bad = host.spawn(`local ok, err = time.sleep("soon") return err:kind() .. " " .. err:message()`);
    await expect(bad.exited).resolves.toBe(
      'INVALID time.sleep: invalid duration "soon" (e.g. "1h30m", "500ms")',
    );
  });
});
