-- The modules scripts use: events, process and time (channel is in channel.lua).
local R, H = ...
local type, tostring, select = type, tostring, select
local co_yield = coroutine.yield
local mtype, huge = math.type, math.huge
local concat, pack = table.concat, table.pack
local ssub = string.sub
local H_subscribe, H_unsubscribe, H_send, H_post, H_sleep, H_now =
      H.subscribe, H.unsubscribe, H.send, H.post, H.sleep, H.now
local describe, procs, new_channel, close_channel, push, receive, encode =
      R.describe, R.procs, R.new_channel, R.close_channel, R.push, R.receive, R.encode
local WAIT, AGAIN = R.WAIT, R.AGAIN

---------------------------------------------------------------------------------------------
-- events

local events = {}
local SubMethods = {}
local sub_proxy, sub_state = R.handle_kind("subscription", SubMethods)

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
  local p = R.current
  local id = H_subscribe(p.pid, system, kind or "", path or "")
  if type(id) ~= "number" then return nil, "events.subscribe: " .. tostring(id) end
  local st = { id = id, pid = p.pid, ch = new_channel(nil, p.pid), closed = false }
  p.subs[id] = st
  return sub_proxy(st)
end

-- The subscription of the current process behind handle h, or nil and the error.
local function own(h, what)
  local st = sub_state(h)
  if not st then return nil, what .. ": expected a subscription, got " .. describe(h) end
  if st.pid ~= R.current.pid then return nil, what .. ": the subscription belongs to another process" end
  return st
end

function SubMethods.channel(h)
  local st, err = own(h, "sub:channel")
  if not st then return nil, err end
  return st.ch.proxy
end

function SubMethods.receive(h)
  local st, err = own(h, "sub:receive")
  if not st then return nil, err end
  return receive(st.ch)
end

function SubMethods.close(h)
  local st, err = own(h, "sub:close")
  if not st then return nil, err end
  if st.closed then return true end
  st.closed = true
  local owner = procs[st.pid]
  if owner then
    owner.subs[st.id] = nil
    H_unsubscribe(st.pid, st.id)
  end
  close_channel(st.ch)
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
  local err = H_send(R.current.pid, system, kind, path, json)
  if err ~= nil then return nil, "events.send: " .. err end
  return true
end

---------------------------------------------------------------------------------------------
-- process

local process = {}

function process.pid() return R.current.pid end
function process.name() return R.current.name end

local function inbox_of(p)
  local inbox = p.inbox
  if not inbox then inbox = new_channel(nil, nil); p.inbox = inbox end
  return inbox
end

function process.inbox() return inbox_of(R.current).proxy end

local function listener(p, topic)
  local listeners = p.listeners
  if not listeners then listeners = {}; p.listeners = listeners end
  local st = listeners[topic]
  if not st then st = new_channel(nil, nil); listeners[topic] = st end
  return st
end

function process.listen(topic)
  if type(topic) ~= "string" or topic == "" then
    return nil, "process.listen: topic must be a non-empty string, got " .. describe(topic)
  end
  return listener(R.current, topic).proxy
end

-- Delivers a message to a process of this engine: to the channel of process.listen(topic) if it
-- has one, else to its inbox.
local function deliver(target, msg)
  local st = target.listeners and target.listeners[msg.topic] or inbox_of(target)
  push(st, msg)
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

-- Within an engine, values (tables and channels included) are passed by reference. A process on
-- another engine gets a copy, converted as event data is: channels cannot cross.
function process.send(pid, topic, ...)
  if mtype(pid) ~= "integer" then return nil, "process.send: pid must be an integer, got " .. describe(pid) end
  if type(topic) ~= "string" or topic == "" then
    return nil, "process.send: topic must be a non-empty string, got " .. describe(topic)
  end
  local me = R.current
  local target = procs[pid]
  if target and not target.dead then
    local msg = pack(...)
    msg.from = me.pid
    msg.topic = topic
    deliver(target, msg)
    return true
  end
  local json, err = encode_args(select("#", ...), ...)
  if not json then
    return nil, "process.send: process " .. pid .. " is not running on this engine (yet), so the message is copied, and args" .. err
  end
  err = H_post(me.pid, pid, topic, json)
  if err ~= nil then return nil, "process.send: " .. err end
  return true
end

function process.spawn(source, name)
  if type(source) ~= "string" then return nil, "process.spawn: source must be a string, got " .. describe(source) end
  if name ~= nil and (type(name) ~= "string" or name == "") then
    return nil, "process.spawn: name must be a non-empty string or nil, got " .. describe(name)
  end
  local me = R.current
  local pid, err = R.spawn(nil, name or (me.name .. ".child"), source, me.pid)
  if not pid then return nil, "process.spawn: " .. err end
  return pid
end

---------------------------------------------------------------------------------------------
-- time

local time = {}

function time.sleep(ms)
  if type(ms) ~= "number" or ms ~= ms or ms < 0 or ms == huge then
    return nil, "time.sleep: ms must be a finite non-negative number, got " .. describe(ms)
  end
  local p = R.current
  if ms == 0 then
    co_yield(AGAIN)
    return true
  end
  local token = H_sleep(p.pid, ms)
  p.sleep = token
  repeat co_yield(WAIT) until p.sleep ~= token
  return true
end

function time.now() return H_now() end

R.modules = { events = events, process = process, time = time, channel = R.channel_module }
