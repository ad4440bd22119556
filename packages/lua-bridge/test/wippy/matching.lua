-- Wippy's matching rules (the host default): trailing * is a prefix, * alone or kind * is anything.
local events = require("events")
local time = require("time")

local function drain(ch)
  local out = {}
  while true do
    local r = channel.select{ ch:case_receive(), default = true }
    if r.default then return out end
    out[#out + 1] = r.value.system .. "/" .. r.value.kind
  end
end

local function main()
  local prefix = assert(events.subscribe("orders.*"))
  local any_kind = assert(events.subscribe("users", "*"))
  local kind_prefix = assert(events.subscribe("users", "session.*"))
  local exact = assert(events.subscribe("orders"))
  local bus_only, err = events.subscribe("orders.**")
  assert(bus_only == nil and err:kind() == errors.INVALID, "bus wildcards are refused, not read as literals")
  local last = assert(events.subscribe("users.admin"))

  for _, e in ipairs({ { "orders.eu.west", "created" }, { "orders", "created" }, { "ordersx", "created" },
                       { "users", "user.login" }, { "users", "session.start" }, { "users.admin", "x" } }) do
    assert(events.send(e[1], e[2], "/p"))
  end
  -- Events sent from Lua come back through the bus, in order: once the last is in, all are.
  last:channel():receive()
  time.sleep(0)

  local p = table.concat(drain(prefix:channel()), ",")
  assert(p == "orders.eu.west/created", p)
  local k = table.concat(drain(any_kind:channel()), ",")
  assert(k == "users/user.login,users/session.start", k)
  local kp = table.concat(drain(kind_prefix:channel()), ",")
  assert(kp == "users/session.start", kp)
  local x = table.concat(drain(exact:channel()), ",")
  assert(x == "orders/created", x)
  return true
end

return { main = main }
