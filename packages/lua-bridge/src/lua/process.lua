-- The process module (Wippy's docs en/lua/core/process.md, runtime lua/modules/process/spec.md).
--
-- PIDs are strings, as in Wippy: process.pid() returns the host's integer pid as decimal text
-- ("17"), and every function taking a destination accepts that string or the integer.
local R, H = ...
local type, tostring, select, error, next, setmetatable, rawget = type, tostring, select, error, next, setmetatable, rawget
local mtype, tointeger = math.type, math.tointeger
local concat, pack = table.concat, table.pack
local ssub, sbyte, smatch = string.sub, string.byte, string.match
local H_post, H_script, H_terminate = H.post, H.script, H.terminate
local describe, procs, new_channel, close_channel, push, encode, fail, new_error =
      R.describe, R.procs, R.new_channel, R.close_channel, R.push, R.encode, R.fail, R.new_error
local INVALID, NOT_FOUND = "INVALID", "NOT_FOUND"

local process = {}
local EVENT = { CANCEL = "pid.cancel", EXIT = "pid.exit", LINK_DOWN = "pid.link.down" }
process.event = EVENT

function process.pid() return tostring(R.current.pid) end
process.id = process.pid
function process.name() return R.current.name end

-- The integer pid of a destination, or nil and the error.
local function pid_of(dest, what)
  if mtype(dest) == "integer" then return dest end
  if type(dest) == "string" and smatch(dest, "^%d+$") then
    local n = tointeger(tonumber(dest))
    if n then return n end
  end
  return fail(INVALID, what .. ": destination must be a pid (a string like \"17\", or an integer), got " .. describe(dest))
end

-- A message: its payloads at [1..n] (threadbus's extension) and Wippy's methods.
local MessageMethods = {}
local message_meta = { __index = MessageMethods, __name = "message", __metatable = "message" }
local message_info = setmetatable({}, { __mode = "k" })
local PayloadMethods = {}
local payload_proxy, payload_state = R.handle_kind("payload", PayloadMethods)

local function info_of(m, what)
  local info = message_info[m]
  if not info then error(what .. ": expected a message, got " .. describe(m), 3) end
  return info
end
function MessageMethods.topic(m) return info_of(m, "msg:topic").topic end
function MessageMethods.from(m)
  local from = info_of(m, "msg:from").from
  return from and tostring(from)
end
function MessageMethods.payload(m)
  info_of(m, "msg:payload")
  return payload_proxy({ value = rawget(m, 1) })
end
function PayloadMethods.data(h) return payload_state(h).value end

local function new_message(args, from, topic)
  message_info[args] = { from = from, topic = topic }
  return setmetatable(args, message_meta)
end

local function inbox_of(p)
  local inbox = p.inbox
  if not inbox then inbox = new_channel(nil, nil); p.inbox = inbox end
  return inbox
end

local function events_of(p)
  local ch = p.events
  if not ch then ch = new_channel(nil, nil); p.events = ch end
  return ch
end

function process.inbox() return inbox_of(R.current).proxy end
function process.events() return events_of(R.current).proxy end

local function check_topic(topic, what)
  if type(topic) ~= "string" then error(what .. ": topic must be a string, got " .. describe(topic), 3) end
  if topic == "" then return false, what .. ": topic cannot be empty" end
  if sbyte(topic, 1) == 64 then return false, what .. ": topics starting with @ are reserved" end
  return true
end

-- Messages on `topic` that reached the inbox before listen(topic) move to its channel, in order:
-- a child that listens as it starts gets what its parent sent right after spawning it.
local function adopt(inbox, st, topic)
  if not inbox or inbox.tail < inbox.head then return end
  local keep, n, buf = {}, 0, inbox.buf
  for i = inbox.head, inbox.tail do
    local m = buf[i]
    local info = message_info[m]
    if info and info.topic == topic then
      push(st, st.as_message and m or rawget(m, 1))
    else
      n = n + 1
      keep[n] = m
    end
  end
  inbox.buf, inbox.head, inbox.tail = keep, 1, n
end

-- listen(topic) delivers each message's first payload; listen(topic, { message = true }) the
-- Message objects, as the inbox does.
function process.listen(topic, options)
  local ok, err = check_topic(topic, "process.listen")
  if not ok then return fail(INVALID, err) end
  local as_message = type(options) == "table" and rawget(options, "message") == true
  local p = R.current
  local listeners = p.listeners
  if not listeners then listeners = {}; p.listeners = listeners end
  local st = listeners[topic]
  if not st then
    st = new_channel(nil, nil)
    listeners[topic] = st
    st.as_message = as_message
    adopt(p.inbox, st, topic)
  end
  st.as_message = as_message
  return st.proxy
end

function process.unlisten(ch)
  local p = R.current
  for topic, st in next, p.listeners or {} do
    if st.proxy == ch then
      p.listeners[topic] = nil
      close_channel(st)
      return true
    end
  end
  return false
end

-- Delivers a message to a process of this engine: "@cancel" to its events(), a topic it listens
-- to to that channel, anything else to its inbox.
local function deliver(target, args)
  local topic, from = args.topic, args.from
  args.topic, args.from = nil, nil
  if topic == "@cancel" then
    return push(events_of(target), { kind = EVENT.CANCEL, from = tostring(from), reason = args[1] })
  end
  local st = target.listeners and target.listeners[topic]
  if st and not st.as_message then
    local payload = args[1]
    return push(st, payload)
  end
  push(st or inbox_of(target), new_message(args, from, topic))
end
R.deliver = deliver

-- The arguments of a message to another engine as a JSON array (nil as null, so positions hold).
local function encode_args(n, ...)
  local parts = {}
  for i = 1, n do
    local v = select(i, ...)
    if v == nil then parts[i] = "null"
    else
      local text, err = encode(v)
      if not text then return nil, "[" .. i .. "]" .. ssub(err, 5) end
      parts[i] = text
    end
  end
  return "[" .. concat(parts, ",") .. "]"
end

local function post(what, pid, topic, n, ...)
  local me = R.current
  local target = procs[pid]
  if target and not target.dead then
    local msg = pack(...)
    msg.from, msg.topic = me.pid, topic
    deliver(target, msg)
    return true
  end
  local json, err = encode_args(n, ...)
  if not json then
    return fail(INVALID, what .. ": process " .. pid .. " is not running on this engine (yet), so the message is copied, and args" .. err)
  end
  err = H_post(me.pid, pid, topic, json)
  if err ~= nil then return fail(NOT_FOUND, what .. ": " .. err) end
  return true
end

-- Within an engine, values (tables and channels included) are passed by reference. A process on
-- another engine gets a copy, converted as event data is: channels cannot cross.
function process.send(dest, topic, ...)
  local pid, err = pid_of(dest, "process.send")
  if not pid then return nil, err end
  local ok, problem = check_topic(topic, "process.send")
  if not ok then return fail(INVALID, problem) end
  return post("process.send", pid, topic, select("#", ...), ...)
end

-- Asks a process to stop: it receives { kind = process.event.CANCEL, from, reason } on events().
function process.cancel(dest, reason)
  local pid, err = pid_of(dest, "process.cancel")
  if not pid then return nil, err end
  if reason ~= nil and type(reason) ~= "string" then
    error("process.cancel: reason must be a string or nil, got " .. describe(reason), 2)
  end
  return post("process.cancel", pid, "@cancel", 1, reason)
end

-- Ends a process at once (as host.kill: its exited rejects with LUA_KILLED).
function process.terminate(dest)
  local pid, err = pid_of(dest, "process.terminate")
  if not pid then return nil, err end
  err = H_terminate(pid)
  if err ~= nil then return fail(NOT_FOUND, "process.terminate: " .. err) end
  return true
end

---------------------------------------------------------------------------------------------
-- spawn, monitors and links. A child runs on its parent's engine, so both ends of a monitor or
-- link made at spawn are on one engine; monitor()/link() reach processes of the same engine.

local function spawn_with(what, id, host, monitored, linked, ...)
  if type(id) ~= "string" then error(what .. ": id must be a string, got " .. describe(id), 3) end
  if type(host) ~= "string" then error(what .. ": host must be a string, got " .. describe(host), 3) end
  local source = H_script(id)
  if source == nil then return fail(NOT_FOUND, what .. ": no script registered as " .. describe(id) .. " (host.register(id, source))") end
  local me = R.current
  local pid, err = R.spawn(nil, id, source, me.pid, pack(...))
  if not pid then return fail("INTERNAL", what .. ": " .. err) end
  local child = procs[pid]
  if child then
    if monitored then child.monitors = { [me.pid] = true } end
    if linked then
      child.links = { [me.pid] = true }
      me.links = me.links or {}
      me.links[pid] = true
    end
  end
  return tostring(pid)
end

function process.spawn(id, host, ...) return spawn_with("process.spawn", id, host, false, false, ...) end
function process.spawn_monitored(id, host, ...) return spawn_with("process.spawn_monitored", id, host, true, false, ...) end
function process.spawn_linked(id, host, ...) return spawn_with("process.spawn_linked", id, host, false, true, ...) end
function process.spawn_linked_monitored(id, host, ...)
  return spawn_with("process.spawn_linked_monitored", id, host, true, true, ...)
end

-- threadbus's extension: a child from source text (Wippy spawns registered entries only).
function process.spawn_source(source, name)
  if type(source) ~= "string" then error("process.spawn_source: source must be a string, got " .. describe(source), 2) end
  if name ~= nil and (type(name) ~= "string" or name == "") then
    error("process.spawn_source: name must be a non-empty string or nil, got " .. describe(name), 2)
  end
  local me = R.current
  local pid, err = R.spawn(nil, name or (me.name .. ".child"), source, me.pid, nil)
  if not pid then return fail(INVALID, "process.spawn_source: " .. err) end
  return tostring(pid)
end

local function local_target(dest, what)
  local pid, err = pid_of(dest, what)
  if not pid then return nil, err end
  local target = procs[pid]
  if not target or target.dead then
    return fail(NOT_FOUND, what .. ": no process " .. pid .. " on this engine (monitors and links reach the caller's engine)")
  end
  return target
end

function process.monitor(dest)
  local target, err = local_target(dest, "process.monitor")
  if not target then return nil, err end
  target.monitors = target.monitors or {}
  target.monitors[R.current.pid] = true
  return true
end

function process.unmonitor(dest)
  local target, err = local_target(dest, "process.unmonitor")
  if not target then return nil, err end
  if target.monitors then target.monitors[R.current.pid] = nil end
  return true
end

function process.link(dest)
  local target, err = local_target(dest, "process.link")
  if not target then return nil, err end
  local me = R.current
  target.links = target.links or {}
  target.links[me.pid] = true
  me.links = me.links or {}
  me.links[target.pid] = true
  return true
end

function process.unlink(dest)
  local target, err = local_target(dest, "process.unlink")
  if not target then return nil, err end
  local me = R.current
  if target.links then target.links[me.pid] = nil end
  if me.links then me.links[target.pid] = nil end
  return true
end

function process.get_options()
  local p = R.current
  return { trap_links = p.trap_links or false, upgradable = false }
end

function process.set_options(options)
  if type(options) ~= "table" then error("process.set_options: expected a table, got " .. describe(options), 2) end
  local trap = rawget(options, "trap_links")
  if trap ~= nil then R.current.trap_links = trap == true end
  return true
end

-- Called by the scheduler as a process ends: monitors get EXIT ({ value } or { error });
-- linked processes get LINK_DOWN when it failed.
function R.notify_exit(p, value, message)
  local from = tostring(p.pid)
  local err = message and new_error("UNKNOWN", message, false, nil, nil)
  local result = err and { error = err } or { value = value }
  for pid in next, p.monitors or {} do
    local q = procs[pid]
    if q and not q.dead then push(events_of(q), { kind = EVENT.EXIT, from = from, result = result }) end
  end
  if not err then return end
  for pid in next, p.links or {} do
    local q = procs[pid]
    if q and not q.dead then
      if q.links then q.links[p.pid] = nil end
      push(events_of(q), { kind = EVENT.LINK_DOWN, from = from, result = result })
    end
  end
end

R.modules.process = process
