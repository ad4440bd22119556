-- Registered as "wippy:echo": answers each ping to its parent with n + 1.
local function main(parent)
  local pings = process.listen("ping")
  while true do
    local data = pings:receive()
    process.send(parent, "pong", { n = data.n + 1 })
  end
end

return { main = main }
