/**
 * The Lua half of the host, run once on the VM's main state: the scheduler, channels, the
 * `events`/`channel`/`process`/`time` modules and the per-process sandbox.
 *
 * Scheduling lives in Lua because a coroutine resume from Lua costs well under a microsecond,
 * while every JS<->Lua crossing through wasmoon costs ~1-5 µs; JS is called once per batch of
 * events (`pull`), once per tick (`poll`), and for sends, subscribes, prints and exits.
 *
 * Host functions (H) return plain strings and numbers only; an error is a string return, never a
 * JS throw, so no JS exception ever unwinds through Lua.
 */
export const RUNTIME_LUA = String.raw`
local H, C = __threadbus_host, __threadbus_config
__threadbus_host, __threadbus_config = nil, nil

local load, pcall, error, type, tostring, select, next =
      load, pcall, error, type, tostring, select, next
local setmetatable, rawget, rawlen = setmetatable, rawget, rawlen
local co_create, co_resume, co_yield, co_status, co_close, co_isyieldable, co_running =
      coroutine.create, coroutine.resume, coroutine.yield, coroutine.status, coroutine.close,
      coroutine.isyieldable, coroutine.running
local sethook, traceback, rawmeta = debug.sethook, debug.traceback, debug.getmetatable
local mtype, huge, floor = math.type, math.huge, math.floor
local sformat, sgsub, sbyte = string.format, string.gsub, string.byte
local concat, pack, unpack = table.concat, table.pack, table.unpack
local collect = collectgarbage

local H_poll, H_pull, H_exit, H_limit = H.poll, H.pull, H.exit, H.limit
local BUDGET = C.instructionBudget

-- Private yield markers: WAIT parks the process until something readies it, AGAIN requeues it.
local WAIT = setmetatable({}, { __name = "wait", __metatable = false })
local AGAIN = setmetatable({}, { __name = "again", __metatable = false })
-- Stands for nil inside channel buffers.
local NIL = {}
local BUDGET_MSG = "instruction budget exceeded: the process ran " .. BUDGET .. " instructions without yielding"
local NO_ENV = setmetatable({}, { __newindex = function() error("read-only", 2) end })

local procs = {}       -- pid -> process
local current = nil    -- the process being resumed
local ready, rhead, rtail = {}, 1, 0
local feedwaiters = {} -- owner pid -> set of processes blocked on that owner's subscription channels

local function describe(v)
  local t = type(v)
  if t == "string" then return sformat("%q", v) end
  if t == "number" or t == "boolean" or t == "nil" then return tostring(v) end
  local mt = rawmeta(v)
  return "a " .. ((mt and rawget(mt, "__name")) or t)
end

local function make_ready(p)
  if p.dead or p.queued then return end
  p.queued = true
  rtail = rtail + 1
  ready[rtail] = p
end

---------------------------------------------------------------------------------------------
-- Channels

-- __metatable hides the method tables from getmetatable, so no process can change them for all.
local Channel = { __name = "channel", __metatable = "channel" }
Channel.__index = Channel
local Case = { __name = "case", __metatable = "case" }
Case.__index = Case

local function new_channel(cap, owner)
  return setmetatable({ buf = {}, head = 1, tail = 0, cap = cap, closed = false, owner = owner }, Channel)
end

local function wake_waiters(ch)
  local w = ch.waiters
  if w then
    ch.waiters = nil
    for p in next, w do make_ready(p) end
  end
end

local function push(ch, v)
  local t = ch.tail + 1
  ch.tail = t
  if v == nil then v = NIL end
  ch.buf[t] = v
  if ch.waiters then wake_waiters(ch) end
end

local function admit_sender(ch)
  local q = ch.sendq
  while q.head <= q.tail and (ch.cap == nil or ch.tail - ch.head + 1 < ch.cap) do
    local s = q[q.head]
    q[q.head] = nil
    q.head = q.head + 1
    if not s.cancelled then
      push(ch, s.value)
      s.done = true
      make_ready(s.proc)
    end
  end
end

-- Returns true, value, ok when a receive can complete now; false otherwise.
local function try_recv(ch)
  local h = ch.head
  if h <= ch.tail then
    local buf = ch.buf
    local v = buf[h]
    buf[h] = nil
    if h == ch.tail then ch.head, ch.tail = 1, 0 else ch.head = h + 1 end
    if ch.sendq then admit_sender(ch) end
    if v == NIL then v = nil end
    return true, v, true
  end
  local q = ch.sendq
  while q and q.head <= q.tail do
    local s = q[q.head]
    q[q.head] = nil
    q.head = q.head + 1
    if not s.cancelled then
      s.done = true
      make_ready(s.proc)
      return true, s.value, true
    end
  end
  if ch.closed then return true, nil, false end
  return false
end

local function close_channel(ch)
  if ch.closed then return end
  ch.closed = true
  wake_waiters(ch)
end

local function wait_on(chs, n)
  local p = current
  for i = 1, n do
    local ch = chs[i]
    local w = ch.waiters
    if not w then w = {}; ch.waiters = w end
    w[p] = true
    local o = ch.owner
    if o then
      local fw = feedwaiters[o]
      if not fw then fw = {}; feedwaiters[o] = fw end
      fw[p] = true
    end
  end
  co_yield(WAIT)
  for i = 1, n do
    local ch = chs[i]
    local w = ch.waiters
    if w then w[p] = nil end
    local o = ch.owner
    if o then
      local fw = feedwaiters[o]
      if fw then fw[p] = nil end
    end
  end
end

-- Hands the owner's queued bus events to its subscription channels: one JS call per batch. A
-- process pulls at most once per resume, so a busy one yields between batches and the others run.
local function refill(owner)
  local p = current
  if not p.fresh and co_isyieldable() then co_yield(AGAIN) end
  p.fresh = false
  local src = H_pull(owner)
  if src == nil then return false end
  local chunk, err = load(src, "=events", "t", NO_ENV)
  if not chunk then error("threadbus: bad event batch: " .. err, 0) end
  local batch = chunk()
  local op = procs[owner]
  if not op then return false end
  local subs = op.subs
  for i = 1, #batch, 2 do
    local sub = subs[batch[i]]
    if sub then push(sub.ch, batch[i + 1]) end
  end
  return true
end

local function is_channel(v) return rawmeta(v) == Channel end

function Channel.receive(ch)
  if not is_channel(ch) then return nil, "ch:receive: expected a channel, got " .. describe(ch) .. " (call it as ch:receive())" end
  local one = nil
  while true do
    local got, v, ok = try_recv(ch)
    if got then return v, ok end
    local o = ch.owner
    if not (o and refill(o)) then
      one = one or { ch }
      wait_on(one, 1)
    end
  end
end

function Channel.send(ch, v)
  if not is_channel(ch) then return nil, "ch:send: expected a channel, got " .. describe(ch) .. " (call it as ch:send(v))" end
  if ch.owner then return nil, "ch:send: a subscription's channel only carries bus events" end
  if ch.closed then return nil, "ch:send: the channel is closed" end
  if ch.cap == nil or ch.tail - ch.head + 1 < ch.cap then
    push(ch, v)
    return true
  end
  local q = ch.sendq
  if not q then q = { head = 1, tail = 0 }; ch.sendq = q end
  local s = { proc = current, value = v, done = false }
  q.tail = q.tail + 1
  q[q.tail] = s
  if ch.waiters then wake_waiters(ch) end
  local one = { ch }
  while not s.done do
    if ch.closed then
      s.cancelled = true
      return nil, "ch:send: the channel was closed while sending"
    end
    wait_on(one, 1)
  end
  return true
end

function Channel.close(ch)
  if not is_channel(ch) then return nil, "ch:close: expected a channel, got " .. describe(ch) end
  close_channel(ch)
  return true
end

function Channel.case_receive(ch)
  if not is_channel(ch) then return nil, "ch:case_receive: expected a channel, got " .. describe(ch) end
  return setmetatable({ ch = ch }, Case)
end

function Channel.len(ch)
  if not is_channel(ch) then return nil, "ch:len: expected a channel, got " .. describe(ch) end
  return ch.tail - ch.head + 1
end

local function select_cases(cases)
  if type(cases) ~= "table" or rawmeta(cases) ~= nil then
    return nil, "channel.select: expected a list of cases like { ch:case_receive() }, got " .. describe(cases)
  end
  local n = #cases
  if n == 0 then return nil, "channel.select: expected at least one case" end
  local chs = {}
  for i = 1, n do
    local c = cases[i]
    if rawmeta(c) ~= Case then
      return nil, "channel.select: case " .. i .. " is " .. describe(c) .. ", not a case (make one with ch:case_receive())"
    end
    chs[i] = c.ch
  end
  while true do
    for i = 1, n do
      local got, v, ok = try_recv(chs[i])
      if got then return i, v, ok end
    end
    local refilled = false
    for i = 1, n do
      local ch = chs[i]
      if ch.owner and not ch.closed and refill(ch.owner) then refilled = true; break end
    end
    if not refilled then wait_on(chs, n) end
  end
end

local function new_channel_checked(size)
  if size == nil then size = 0 end
  if mtype(size) ~= "integer" or size < 0 then
    return nil, "channel.new: size must be a non-negative integer, got " .. describe(size)
  end
  return new_channel(size, nil)
end

---------------------------------------------------------------------------------------------
-- Data conversion Lua -> JSON (parsed by JS). Functions, userdata, threads, cycles, NaN and
-- non-string/number keys are refused with the path to the offending value.

local ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
              ['\b'] = '\\b', ['\f'] = '\\f' }
local function esc_char(c) return ESC[c] or sformat("\\u%04x", sbyte(c)) end
local function quote(s) return '"' .. sgsub(s, '[%c"\\]', esc_char) .. '"' end

local path_stack, path_depth = {}, 0
local function conversion_error(what, depth)
  local parts = { "data" }
  for i = 1, depth or path_depth do parts[i + 1] = path_stack[i] end
  error({ conversion = concat(parts) .. ": " .. what }, 0)
end

local function number_key(k)
  if mtype(k) == "integer" then return sformat("%d", k) end
  return sformat("%.17g", k)
end

local encode_value
encode_value = function(v, out, n, seen)
  local t = type(v)
  if t == "string" then
    n = n + 1; out[n] = quote(v)
  elseif t == "number" then
    n = n + 1
    if mtype(v) == "integer" then out[n] = sformat("%d", v)
    elseif v ~= v then conversion_error("NaN cannot be converted")
    elseif v == huge then out[n] = "1e999"
    elseif v == -huge then out[n] = "-1e999"
    else out[n] = sformat("%.17g", v) end
  elseif t == "boolean" then
    n = n + 1; out[n] = v and "true" or "false"
  elseif t == "nil" then
    n = n + 1; out[n] = "null"
  elseif t == "table" then
    local mt = rawmeta(v)
    if mt and rawget(mt, "__name") then conversion_error("a " .. tostring(rawget(mt, "__name")) .. " cannot be converted") end
    if seen[v] then conversion_error("a cyclic table cannot be converted") end
    if path_depth >= 100 then conversion_error("data nested deeper than 100 levels cannot be converted") end
    seen[v] = true
    local len, count = rawlen(v), 0
    for _ in next, v do count = count + 1 end
    local is_array = count > 0 and count == len
    if is_array then
      for i = 1, len do if rawget(v, i) == nil then is_array = false; break end end
    end
    path_depth = path_depth + 1
    if is_array then
      n = n + 1; out[n] = "["
      for i = 1, len do
        if i > 1 then n = n + 1; out[n] = "," end
        path_stack[path_depth] = "[" .. i .. "]"
        n = encode_value(rawget(v, i), out, n, seen)
      end
      n = n + 1; out[n] = "]"
    else
      n = n + 1; out[n] = "{"
      local first = true
      for k, item in next, v do
        local kt, ks = type(k), nil
        if kt == "string" then ks = k
        elseif kt == "number" then ks = number_key(k)
        else conversion_error("a table key of type " .. kt .. " cannot be converted (keys must be strings or numbers)", path_depth - 1) end
        if not first then n = n + 1; out[n] = "," end
        first = false
        n = n + 1; out[n] = quote(ks) .. ":"
        path_stack[path_depth] = "." .. ks
        n = encode_value(item, out, n, seen)
      end
      n = n + 1; out[n] = "}"
    end
    path_stack[path_depth] = nil
    path_depth = path_depth - 1
    seen[v] = nil
  else
    conversion_error("a " .. t .. " cannot be converted")
  end
  return n
end

-- Returns the JSON text, or nil and the reason.
local function encode(v)
  local out = {}
  path_stack, path_depth = {}, 0
  local ok, err = pcall(encode_value, v, out, 0, {})
  if ok then return concat(out) end
  path_depth = 0
  if type(err) == "table" and err.conversion then return nil, err.conversion end
  error(err, 0)
end

---------------------------------------------------------------------------------------------
-- Modules

local events, channel_mod, process_mod, time_mod = {}, {}, {}, {}
local Sub = { __name = "subscription", __metatable = "subscription" }
Sub.__index = Sub

function events.subscribe(system, kind, path)
  if type(system) ~= "string" or system == "" then
    return nil, "events.subscribe: system must be a non-empty pattern string, got " .. describe(system)
  end
  if kind ~= nil and type(kind) ~= "string" then
    return nil, "events.subscribe: kind must be a pattern string or nil, got " .. describe(kind)
  end
  if path ~= nil and (type(path) ~= "string" or path == "") then
    return nil, "events.subscribe: path must be a non-empty glob string or nil, got " .. describe(path)
  end
  local p = current
  local id = H.subscribe(p.pid, system, kind or "", path or "")
  if type(id) ~= "number" then return nil, "events.subscribe: " .. tostring(id) end
  -- The process table stays private (it holds the budget state): the subscription names its pid.
  local sub = setmetatable({ id = id, ch = new_channel(nil, p.pid), pid = p.pid, closed = false,
                             system = system, kind = kind or "" }, Sub)
  p.subs[id] = sub
  return sub
end

local function is_sub(v) return rawmeta(v) == Sub end

function Sub.channel(sub)
  if not is_sub(sub) then return nil, "sub:channel: expected a subscription, got " .. describe(sub) end
  return sub.ch
end

function Sub.receive(sub)
  if not is_sub(sub) then return nil, "sub:receive: expected a subscription, got " .. describe(sub) end
  return Channel.receive(sub.ch)
end

function Sub.close(sub)
  if not is_sub(sub) then return nil, "sub:close: expected a subscription, got " .. describe(sub) end
  if sub.closed then return true end
  sub.closed = true
  local owner = procs[sub.pid]
  if owner then
    owner.subs[sub.id] = nil
    H.unsubscribe(sub.pid, sub.id)
  end
  close_channel(sub.ch)
  return true
end

function events.send(system, kind, path, data)
  if type(system) ~= "string" or system == "" then
    return nil, "events.send: system must be a non-empty string, got " .. describe(system)
  end
  if type(kind) ~= "string" or kind == "" then
    return nil, "events.send: kind must be a non-empty string, got " .. describe(kind)
  end
  if path == nil then path = "" end
  if type(path) ~= "string" then
    return nil, "events.send: path must be a string, got " .. describe(path)
  end
  local json = ""
  if data ~= nil then
    local text, err = encode(data)
    if not text then return nil, "events.send: " .. err end
    json = text
  end
  local err = H.send(current.pid, system, kind, path, json)
  if err ~= nil then return nil, "events.send: " .. err end
  return true
end

channel_mod.new = new_channel_checked
channel_mod.select = select_cases

local spawn_process -- defined below

function process_mod.pid() return current.pid end
function process_mod.name() return current.name end

function process_mod.inbox()
  local p = current
  local inbox = p.inbox
  if not inbox then inbox = new_channel(nil, nil); p.inbox = inbox end
  return inbox
end

function process_mod.listen(topic)
  if type(topic) ~= "string" or topic == "" then
    return nil, "process.listen: topic must be a non-empty string, got " .. describe(topic)
  end
  local p = current
  local listeners = p.listeners
  if not listeners then listeners = {}; p.listeners = listeners end
  local ch = listeners[topic]
  if not ch then ch = new_channel(nil, nil); listeners[topic] = ch end
  return ch
end

-- Messages stay inside this VM, so values (tables included) are passed by reference.
function process_mod.send(pid, topic, ...)
  if mtype(pid) ~= "integer" then return nil, "process.send: pid must be an integer, got " .. describe(pid) end
  if type(topic) ~= "string" or topic == "" then
    return nil, "process.send: topic must be a non-empty string, got " .. describe(topic)
  end
  local target = procs[pid]
  if not target or target.dead then return nil, "process.send: no running process " .. pid end
  local msg = pack(...)
  msg.from = current.pid
  msg.topic = topic
  local ch = target.listeners and target.listeners[topic]
  if not ch then
    ch = target.inbox
    if not ch then ch = new_channel(nil, nil); target.inbox = ch end
  end
  push(ch, msg)
  return true
end

function process_mod.spawn(source, name)
  if type(source) ~= "string" then return nil, "process.spawn: source must be a string, got " .. describe(source) end
  if name ~= nil and (type(name) ~= "string" or name == "") then
    return nil, "process.spawn: name must be a non-empty string or nil, got " .. describe(name)
  end
  local pid, err = spawn_process(nil, name or (current.name .. ".child"), source, current.pid)
  if not pid then return nil, "process.spawn: " .. err end
  return pid
end

function time_mod.sleep(ms)
  if type(ms) ~= "number" or ms ~= ms or ms < 0 or ms == huge then
    return nil, "time.sleep: ms must be a finite non-negative number, got " .. describe(ms)
  end
  local p = current
  if ms == 0 then
    co_yield(AGAIN)
    return true
  end
  local token = H.sleep(p.pid, ms)
  p.sleep = token
  repeat co_yield(WAIT) until p.sleep ~= token
  return true
end

function time_mod.now() return H.now() end

---------------------------------------------------------------------------------------------
-- Sandbox

local function budget_hook()
  local p = current
  if p then p.doomed = true end
  -- Keep failing quickly: a pcall that swallowed the first error gets the next one at once.
  sethook(co_running(), budget_hook, "", 1000)
  error(BUDGET_MSG, 0)
end

local function check_doomed(...)
  if current and current.doomed then error(BUDGET_MSG, 0) end
  return ...
end

local function sandbox_pcall(f, ...) return check_doomed(pcall(f, ...)) end
local function sandbox_xpcall(f, handler, ...) return check_doomed(xpcall(f, handler, ...)) end

-- A blocking call inside a user coroutine yields WAIT/AGAIN through it to the scheduler.
local function pass_through(co, ok, first, ...)
  while ok and (first == WAIT or first == AGAIN) and co_status(co) == "suspended" do
    co_yield(first)
    sethook(co, budget_hook, "", BUDGET)
    return pass_through(co, co_resume(co))
  end
  return check_doomed(ok, first, ...)
end

local function sandbox_resume(co, ...)
  if type(co) == "thread" then sethook(co, budget_hook, "", BUDGET) end
  return pass_through(co, co_resume(co, ...))
end

local function sandbox_wrap(f)
  local co = co_create(f)
  return function(...)
    local function unwrap(ok, ...)
      if not ok then error((...), 0) end
      return ...
    end
    return unwrap(sandbox_resume(co, ...))
  end
end

local function sandbox_setmetatable(t, mt)
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
  H.print(current.pid, concat(parts, "\t"))
end

local LOAD_MODE = C.bytecode and "bt" or "t"

local function sandbox_load(chunk, name, mode, env)
  if not C.bytecode and mode ~= nil and mode ~= "t" then
    return nil, "load: binary chunks are not allowed in the sandbox (mode must be \"t\")"
  end
  return load(chunk, name, C.bytecode and mode or "t", env or current.env)
end

-- The string metatable is shared by every process: hide it so no process can change it.
rawmeta("").__metatable = false

local function copy(t)
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

local SAFE_STRING = copy(string)
SAFE_STRING.dump = nil
local SAFE_COROUTINE = { create = co_create, resume = sandbox_resume, wrap = sandbox_wrap, yield = co_yield,
  status = co_status, running = co_running, isyieldable = co_isyieldable, close = co_close }
local BASE = {
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, select = select,
  tonumber = tonumber, tostring = tostring, type = type, rawequal = rawequal, rawget = rawget,
  rawset = rawset, rawlen = rawlen, getmetatable = getmetatable, _VERSION = _VERSION,
  pcall = sandbox_pcall, xpcall = sandbox_xpcall, setmetatable = sandbox_setmetatable,
  collectgarbage = sandbox_collectgarbage, print = sandbox_print, load = sandbox_load,
}
local LIBS = { string = SAFE_STRING, table = table, math = math, utf8 = utf8, coroutine = SAFE_COROUTINE,
  events = events, channel = channel_mod, process = process_mod, time = time_mod }
local FULL_OS, FULL_IO, FULL_DEBUG, REQUIRE, PACKAGE = os, io, debug, require, package

local function make_env()
  local env = copy(BASE)
  for name, lib in next, LIBS do env[name] = copy(lib) end
  env.os = C.os and FULL_OS or { time = os.time, clock = os.clock }
  if C.io then env.io = FULL_IO end
  if C.debug then env.debug = FULL_DEBUG end
  if C.require then env.require = REQUIRE; env.package = PACKAGE end
  env._G = env
  return env
end

-- Compiles and starts a process. pid is nil when a Lua process spawns: JS then registers one.
spawn_process = function(pid, name, source, parent)
  local env = make_env()
  local f, err = load(source, "=" .. name, LOAD_MODE, env)
  if not f then
    if pid then H_exit(pid, "error", err, "") end
    return nil, err
  end
  if not pid then pid = H.register(parent, name) end
  local p = { pid = pid, name = name, env = env, co = co_create(f), subs = {}, fresh = true,
              queued = false, dead = false }
  procs[pid] = p
  make_ready(p)
  return pid
end

---------------------------------------------------------------------------------------------
-- Scheduler

local function close_all(p)
  for _, sub in next, p.subs do
    sub.closed = true
    close_channel(sub.ch)
  end
  if p.inbox then close_channel(p.inbox) end
  if p.listeners then for _, ch in next, p.listeners do close_channel(ch) end end
  feedwaiters[p.pid] = nil
end

local function finish(p, status, message, payload)
  p.dead = true
  procs[p.pid] = nil
  close_all(p)
  H_exit(p.pid, status, message, payload)
end

local function safe_tostring(v)
  local ok, s = pcall(tostring, v)
  return ok and s or ("(error object: " .. type(v) .. ")")
end

local function step(p)
  current = p
  p.fresh = true
  local co = p.co
  sethook(co, budget_hook, "", BUDGET)
  H_limit(1)
  local ok, first = co_resume(co)
  H_limit(0)
  current = nil
  if p.dead then
    pcall(co_close, co)
    return
  end
  if not ok then
    local message = type(first) == "string" and first or safe_tostring(first)
    local status, trace = "error", ""
    if p.doomed then status = "budget"
    elseif message == "not enough memory" then status = "memory" end
    if status ~= "memory" then trace = traceback(co, message) end
    p.co = nil
    pcall(co_close, co)
    if status == "memory" then collect("collect") end
    finish(p, status, message, trace)
  elseif co_status(co) == "dead" then
    if first == nil then
      finish(p, "ok", "", "")
    else
      local json, err = encode(first)
      if json then finish(p, "ok", "", json) else finish(p, "error", "return value: " .. err, "") end
    end
  elseif first ~= WAIT then
    make_ready(p)
  end
end

local COMMANDS = {
  S = function(pid, name, source) spawn_process(pid, name, source, nil) end,
  K = function(pid)
    local p = procs[pid]
    if not p then return end
    p.dead = true
    procs[pid] = nil
    close_all(p)
    if p.co then pcall(co_close, p.co) end
  end,
  W = function(owner)
    local fw = feedwaiters[owner]
    if fw then for p in next, fw do make_ready(p) end end
  end,
  T = function(pid, token)
    local p = procs[pid]
    if p and p.sleep == token then p.sleep = nil; make_ready(p) end
  end,
}

local function poll()
  local src = H_poll()
  if src == nil then return end
  local chunk, err = load(src, "=host", "t", COMMANDS)
  if not chunk then error("threadbus: bad host commands: " .. err, 0) end
  chunk()
end

local rt = {}

-- Runs ready processes until none is left (returns 0) or max resumes were made (returns 1).
function rt.run(max)
  poll()
  local n = 0
  while rhead <= rtail do
    if n >= max then return 1 end
    local p = ready[rhead]
    ready[rhead] = nil
    rhead = rhead + 1
    p.queued = false
    if not p.dead then
      n = n + 1
      step(p)
    end
  end
  rhead, rtail = 1, 0
  return 0
end

-- "pid count pid count ...": events already handed to Lua and not yet received, per process.
function rt.buffered()
  local out = {}
  for pid, p in next, procs do
    local count = 0
    for _, sub in next, p.subs do count = count + (sub.ch.tail - sub.ch.head + 1) end
    out[#out + 1] = pid .. " " .. count
  end
  return concat(out, " ")
end

return rt
`;
