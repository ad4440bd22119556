-- Try it: pnpm --filter @threadbus/lua build && node packages/lua-bridge/dist/cli.js packages/lua-bridge/examples/registry.lua
local sub = assert(events.subscribe("registry", "create"))
for i = 1, 3 do
  local event = sub:receive()
  print(("registry %s: %s"):format(event.path, event.data.name))
  assert(events.send("registry", "accept", event.path))
end
return "handled 3 events"
