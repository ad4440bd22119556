-- Subscribe, send from a spawned coroutine, receive through select with a timeout.
local events = require("events")
local time = require("time")

local function main()
  local sub, err = events.subscribe("wippy.events")
  assert(sub, tostring(err))
  local ch = sub:channel()
  assert(sub:channel() == ch, "the same channel on every call")

  coroutine.spawn(function()
    time.sleep(5 * time.MILLISECOND)
    assert(events.send("wippy.events", "order.placed", "/orders/1", { amount = 99.5, items = { "a", "b" } }) == true)
    assert(events.send("wippy.events", "order.paid", "/orders/1") == true)
  end)

  local got = {}
  for _ = 1, 2 do
    local result = channel.select{ ch:case_receive(), time.after("2s"):case_receive() }
    assert(result.channel == ch, "an event, not the timeout")
    got[#got + 1] = result.value
  end
  assert(got[1].system == "wippy.events" and got[1].kind == "order.placed" and got[1].path == "/orders/1")
  assert(got[1].data.amount == 99.5 and got[1].data.items[2] == "b")
  assert(got[2].kind == "order.paid" and got[2].data == nil, "data absent when nil")

  assert(sub:close() == true and sub:close() == true, "close is idempotent")
  local v, ok = ch:receive()
  assert(v == nil and ok == false, "a closed subscription's channel gives nil, false")
  return true
end

return { main = main }
