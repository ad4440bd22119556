-- Processes: string pids, messages, listen, spawn by registered id, monitors, cancel, terminate.
-- The driver registers "wippy:echo", "wippy:add" and "wippy:waiter" (see ../wippy.test.ts).
local time = require("time")

local function main()
  local me = process.pid()
  assert(type(me) == "string" and me:match("^%d+$"), "a pid is a string")

  -- An echo child answers on its parent's inbox with a Message object.
  local echo = assert(process.spawn("wippy:echo", "app:processes", me))
  assert(type(echo) == "string")
  assert(process.send(echo, "ping", { n = 1 }) == true)
  local msg = process.inbox():receive()
  assert(msg:topic() == "pong" and msg:from() == echo and msg:payload():data().n == 2)

  -- listen(topic) delivers payloads; the inbox gets the rest.
  local notes = process.listen("note")
  assert(process.send(me, "note", "hello"))
  assert(notes:receive() == "hello")
  local bad, err = process.send(me, "@inbox", 1)
  assert(bad == nil and err:kind() == errors.INVALID, "@ topics are reserved")
  bad, err = process.send("nobody", "x")
  assert(bad == nil and err:kind() == errors.INVALID)

  -- A monitored child's exit arrives on events() with its result.
  local events_ch = process.events()
  local adder = assert(process.spawn_monitored("wippy:add", "app:processes", 2, 3))
  local exit = events_ch:receive()
  assert(exit.kind == process.event.EXIT and exit.from == adder and exit.result.value == 5)

  -- cancel reaches the target's events() as CANCEL with the reason; it answers and ends.
  local waiter = assert(process.spawn_monitored("wippy:waiter", "app:processes", me))
  assert(process.cancel(waiter, "shutting down"))
  local said = process.inbox():receive()
  assert(said:topic() == "cancelled" and said:payload():data() == "shutting down")
  exit = events_ch:receive()
  assert(exit.kind == process.event.EXIT and exit.from == waiter)

  -- terminate ends a process at once; its monitor hears an error result.
  local stuck = assert(process.spawn_monitored("wippy:waiter", "app:processes", me))
  assert(process.terminate(stuck))
  exit = events_ch:receive()
  assert(exit.kind == process.event.EXIT and exit.from == stuck and exit.result.error ~= nil)

  local missing, serr = process.spawn("wippy:nothing", "app:processes")
  assert(missing == nil and serr:kind() == errors.NOT_FOUND)
  assert(process.terminate(echo))
  return true
end

return { main = main }
