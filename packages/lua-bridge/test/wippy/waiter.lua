-- Registered as "wippy:waiter": waits for CANCEL on events(), tells its parent why, and ends.
local function main(parent)
  local ev = process.events():receive()
  assert(ev.kind == process.event.CANCEL)
  process.send(parent, "cancelled", ev.reason)
  return "cancelled"
end

return { main = main }
