-- A Wippy entry: a module whose main the runtime calls, with modules from require.
local events = require("events")
local time = require("time")
local ch = require("channel")

local function main(greeting, count)
  assert(events == _G.events and time == _G.time and ch == _G.channel, "require gives the globals")
  assert(require("errors") == errors and require("process") == process)
  local ok, err = pcall(require, "socket")
  assert(not ok and tostring(err):find("not found"), "unknown modules are refused")
  assert(greeting == "hello" and count == 3, "main gets the spawn's arguments")
  return true
end

return { main = main }
