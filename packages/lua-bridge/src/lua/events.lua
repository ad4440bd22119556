-- The events module (Wippy's runtime/lua/modules/events/spec.md): subscribe to the bus and send
-- to it. Bad values return nil, err (err:kind() == errors.INVALID); an argument of the wrong type
-- raises, as Wippy's CheckString does. threadbus's extensions: a path glob as subscribe's third
-- argument, sub:receive(), and the bus's own wildcards when the host's `matching` is "bus".
local R, H = ...
local type, tostring, error = type, tostring, error
local H_subscribe, H_unsubscribe, H_send = H.subscribe, H.unsubscribe, H.send
local describe, procs, new_channel, close_channel, receive, encode, fail =
      R.describe, R.procs, R.new_channel, R.close_channel, R.receive, R.encode, R.fail
local INVALID = "INVALID"

local events = {}
local SubMethods = {}
local sub_proxy, sub_state = R.handle_kind("subscription", SubMethods)

local function check_string(v, what, optional)
  if type(v) == "string" or (optional and v == nil) then return end
  error(what .. " must be a string" .. (optional and " or nil" or "") .. ", got " .. describe(v), 3)
end

function events.subscribe(system, kind, path)
  check_string(system, "events.subscribe: system")
  check_string(kind, "events.subscribe: kind", true)
  check_string(path, "events.subscribe: path", true)
  if system == "" then return fail(INVALID, "events.subscribe: system must be a non-empty pattern") end
  if path == "" then return fail(INVALID, "events.subscribe: path must be a non-empty glob or nil") end
  local p = R.current
  local id = H_subscribe(p.pid, system, kind or "", path or "")
  if type(id) ~= "number" then return fail(INVALID, "events.subscribe: " .. tostring(id)) end
  local st = { id = id, pid = p.pid, ch = new_channel(nil, p.pid), closed = false }
  p.subs[id] = st
  return sub_proxy(st)
end

-- The subscription of the current process behind handle h, or nil and the error (a handle of
-- another process is refused, never used).
local function own(h, what)
  local st = sub_state(h)
  if not st then return fail(INVALID, what .. ": expected a subscription, got " .. describe(h)) end
  if st.pid ~= R.current.pid then return fail(INVALID, what .. ": the subscription belongs to another process") end
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
  check_string(system, "events.send: system")
  check_string(kind, "events.send: kind")
  check_string(path, "events.send: path")
  if system == "" then return fail(INVALID, "events.send: system must be non-empty") end
  if kind == "" then return fail(INVALID, "events.send: kind must be non-empty") end
  if path == "" then return fail(INVALID, "events.send: path must be non-empty") end
  local json = ""
  if data ~= nil then
    local text, err = encode(data)
    if not text then return fail(INVALID, "events.send: " .. err) end
    json = text
  end
  local err = H_send(R.current.pid, system, kind, path, json)
  if err ~= nil then return fail("UNAVAILABLE", "events.send: " .. err) end
  return true
end

R.modules = { events = events, channel = R.channel_module, errors = R.errors_module }
