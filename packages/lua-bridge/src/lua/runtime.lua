-- The Lua half of an engine, run once on the VM's main state: it loads the other modules in
-- order and returns the scheduler's interface to JS (see scheduler.lua).
--
-- Scheduling lives in Lua because a coroutine resume from Lua costs well under a microsecond,
-- while every JS<->Lua crossing through wasmoon costs ~1-5 µs; JS is called once per batch of
-- events (`pull`), once per tick (`poll`), around each resume (`enter`/`leave`), and for sends,
-- subscribes, prints and exits.
--
-- Host functions (H) return plain strings and numbers only; an error is a string return, never a
-- JS throw, so no JS exception ever unwinds through Lua.
local boot = ...
local H, C, SOURCES = boot.host, boot.config, boot.sources
local load, error, rawget, setmetatable, tostring = load, error, rawget, setmetatable, tostring

-- Modules run in a strict environment: reading an undefined global or writing any global is an
-- error, so a typo fails the engine's start (and the syntax-check test), not a script at run time.
local G = _G
local strict = setmetatable({}, {
  __index = function(_, name)
    local value = rawget(G, name)
    if value == nil then error("threadbus runtime: undefined global " .. tostring(name), 2) end
    return value
  end,
  __newindex = function(_, name)
    error("threadbus runtime: assignment to global " .. tostring(name), 2)
  end,
})

-- What the modules share: the process table, the ready queue and the functions each exports.
local R = {}

local function import(name)
  local source = SOURCES[name]
  if source == nil then error("threadbus runtime: missing module " .. name, 0) end
  local chunk, err = load(source, "@" .. name .. ".lua", "t", strict)
  if not chunk then error(err, 0) end
  chunk(R, H, C)
end

import("core")
import("errors")
import("channel")
import("convert")
import("guard")
import("feed")
import("events")
import("process")
import("timefmt")
import("timeparse")
import("time")
import("sandbox")
import("scheduler")

return R.interface
