-- The environment each process gets: a safe subset of the standard library, per-process copies of
-- every library table (no process can change one for the others), and guards on what remains.
local R, H, C = ...
local type, tostring, select, error, load, next, rawget, setmetatable =
      type, tostring, select, error, load, next, rawget, setmetatable
local sbyte, sfind, smatch, sgmatch, sgsub = string.byte, string.find, string.match, string.gmatch, string.gsub
local concat = table.concat
local collect = collectgarbage
local rawmeta = debug.getmetatable
local H_print = H.print
local describe, copy, check = R.describe, R.copy, R.check

---------------------------------------------------------------------------------------------
-- string

-- string.dump turns any function into bytecode; gone from the real table, so that ("").dump,
-- which reads the string metatable's __index, cannot reach it either.
string.dump = nil

-- Lua patterns backtrack in C, where no hook runs: ("a"):rep(1e5):find((".-"):rep(12) .. "b")
-- would run for hours. Refusing patterns with many unbounded repetitions is cheap and catches
-- that shape; what still runs too long is stopped by the host's watchdog (the engine restarts).
local MAX_REPETITIONS = 8

-- Index just past the set that starts at i ("[...]"), the way lstrlib's classEnd reads it.
local function skip_set(pat, i, len)
  i = i + 1
  if sbyte(pat, i) == 94 then i = i + 1 end -- "^"
  repeat
    if i > len then return i end -- malformed: the C function raises its own error
    if sbyte(pat, i) == 37 then i = i + 2 else i = i + 1 end
  until sbyte(pat, i) == 93
  return i + 1
end

-- Counts single-character classes followed by *, + or -.
local function repetitions(pat)
  local n, i, len = 0, 1, #pat
  if sbyte(pat, 1) == 94 then i = 2 end
  while i <= len do
    local c = sbyte(pat, i)
    local quantifiable = true
    if c == 40 or c == 41 then -- "(" or ")"
      i = i + 1
      quantifiable = false
    elseif c == 37 then -- "%"
      local d = sbyte(pat, i + 1)
      if d == 98 then i = i + 4; quantifiable = false -- %bxy
      elseif d == 102 then i = skip_set(pat, i + 2, len); quantifiable = false -- %f[set]
      else i = i + 2 end
    elseif c == 91 then -- "["
      i = skip_set(pat, i, len)
    else
      i = i + 1
    end
    if quantifiable then
      local q = sbyte(pat, i)
      if q == 42 or q == 43 or q == 45 then n = n + 1; i = i + 1
      elseif q == 63 then i = i + 1 end
    end
  end
  return n
end

local verdicts, cached = {}, 0

local function check_pattern(fname, pattern)
  if type(pattern) ~= "string" then return end -- numbers have no magic; the C function checks the rest
  local n = verdicts[pattern]
  if n == nil then
    n = repetitions(pattern)
    if cached >= 256 then verdicts, cached = {}, 0 end
    verdicts[pattern] = n
    cached = cached + 1
  end
  if n > MAX_REPETITIONS then
    error("string." .. fname .. ": the pattern has " .. n .. " repetitions (*, + or - after a class); at most "
      .. MAX_REPETITIONS .. " are allowed, since matching such a pattern can backtrack for hours", 3)
  end
end

local SAFE_STRING = copy(string)
function SAFE_STRING.find(s, pattern, init, plain)
  if not plain then check_pattern("find", pattern) end
  return sfind(s, pattern, init, plain)
end
function SAFE_STRING.match(s, pattern, init)
  check_pattern("match", pattern)
  return smatch(s, pattern, init)
end
function SAFE_STRING.gmatch(s, pattern, init)
  check_pattern("gmatch", pattern)
  return sgmatch(s, pattern, init)
end
function SAFE_STRING.gsub(s, pattern, repl, n)
  check_pattern("gsub", pattern)
  return sgsub(s, pattern, repl, n)
end

-- The string metatable is shared by every process: methods (s:find) come from the guarded table,
-- and the metatable itself is hidden so that no process can change it.
local string_meta = rawmeta("")
string_meta.__index = SAFE_STRING
string_meta.__metatable = false

---------------------------------------------------------------------------------------------
-- base functions

local function sandbox_setmetatable(t, mt)
  -- A finalizer would run whenever the collector decides, outside any process and its limits.
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("setmetatable: __gc metamethods are not allowed in the sandbox", 2)
  end
  return setmetatable(t, mt)
end

local function sandbox_collectgarbage(opt, ...)
  if opt == nil or opt == "collect" or opt == "count" or opt == "step" then return collect(opt, ...) end
  error("collectgarbage: option " .. describe(opt) .. " is not allowed in the sandbox", 2)
end

local function sandbox_print(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  H_print(R.current.pid, concat(parts, "\t"))
end

local LOAD_MODE = C.bytecode and "bt" or "t"
R.load_mode = LOAD_MODE

-- check() after load: a reader function that ran past the budget has its error swallowed by
-- load (it returns nil, err), so a doomed process must fail here.
local function sandbox_load(chunk, name, mode, env)
  if not C.bytecode and mode ~= nil and mode ~= "t" then
    return nil, "load: binary chunks are not allowed in the sandbox (mode must be \"t\")"
  end
  return check(load(chunk, name, C.bytecode and mode or "t", env or R.current.env))
end

local BASE = {
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, select = select,
  tonumber = tonumber, tostring = tostring, type = type, rawequal = rawequal, rawget = rawget,
  rawset = rawset, rawlen = rawlen, getmetatable = getmetatable, _VERSION = _VERSION,
  pcall = R.sandbox_pcall, xpcall = R.sandbox_xpcall, setmetatable = sandbox_setmetatable,
  collectgarbage = sandbox_collectgarbage, print = sandbox_print, load = sandbox_load,
}
local LIBS = { string = SAFE_STRING, table = table, math = math, utf8 = utf8, coroutine = R.sandbox_coroutine }
local MODULE_NAMES, names = {}, {}
for name, lib in next, R.modules do
  LIBS[name] = lib
  MODULE_NAMES[name] = true
  names[#names + 1] = name
end
for _, name in next, { "string", "table", "math", "utf8", "coroutine" } do MODULE_NAMES[name] = true end
table.sort(names)
local MODULE_LIST = concat(names, ", ")
local OS_TIME, OS_CLOCK = os.time, os.clock
local FULL_OS, FULL_IO, FULL_DEBUG, REQUIRE, PACKAGE = os, io, debug, require, package

-- A library's own copy for one process, nested plain tables (process.event) included, so that
-- no process can change what another one reads.
local function copy_lib(lib)
  local c = {}
  for k, v in next, lib do
    if type(v) == "table" and rawmeta(v) == nil then v = copy(v) end
    c[k] = v
  end
  return c
end

-- require gives the runtime's modules by name (Wippy's `require("events")`), from the process's
-- own environment: no file system, no package table. With allow.require, other names go to
-- Lua's own require.
local function module_require(env)
  return function(name)
    if type(name) ~= "string" then
      error("bad argument #1 to 'require' (string expected, got " .. describe(name) .. ")", 2)
    end
    if MODULE_NAMES[name] then return env[name] end
    if C.require then return REQUIRE(name) end
    error("module " .. describe(name) .. " not found (the sandbox offers: " .. MODULE_LIST .. ")", 2)
  end
end

function R.make_env()
  local env = copy(BASE)
  for name, lib in next, LIBS do env[name] = copy_lib(lib) end
  env.os = C.os and FULL_OS or { time = OS_TIME, clock = OS_CLOCK }
  if C.io then env.io = FULL_IO end
  if C.debug then env.debug = FULL_DEBUG end
  if C.require then env.package = PACKAGE end
  env.require = module_require(env)
  env._G = env
  return env
end
