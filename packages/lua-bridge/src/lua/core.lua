-- Shared primitives: yield markers, the process table, the ready queue, value descriptions and
-- opaque handles.
local R = ...
local type, tostring, rawget, setmetatable, error, next = type, tostring, rawget, setmetatable, error, next
local sformat, ssub = string.format, string.sub
local rawmeta = debug.getmetatable

-- Private yield markers: WAIT parks the process until something readies it, AGAIN requeues it.
-- Scripts never see them, so no script can fake a scheduler request.
R.WAIT = setmetatable({}, { __name = "wait", __metatable = false })
R.AGAIN = setmetatable({}, { __name = "again", __metatable = false })
-- Stands for nil inside channel buffers.
R.NIL = {}

R.procs = {}     -- pid -> process (live processes of this engine)
R.current = nil  -- the process being resumed
R.task = nil     -- the task (coroutine) of R.current being resumed

-- Describes a value for an error message without calling any of its metamethods (a __tostring
-- or __name of a script's table must never run outside the script's own budget).
function R.describe(v)
  local t = type(v)
  if t == "string" then
    if #v > 60 then return sformat("%q", ssub(v, 1, 60)) .. "..." end
    return sformat("%q", v)
  end
  if t == "number" or t == "boolean" or t == "nil" then return tostring(v) end
  local mt = rawmeta(v)
  local name = mt and rawget(mt, "__name")
  return "a " .. (type(name) == "string" and name or t)
end

function R.copy(t)
  local c = {}
  for k, v in next, t do c[k] = v end
  return c
end

---------------------------------------------------------------------------------------------
-- Ready queue

local ready, rhead, rtail = {}, 1, 0

-- Queues a task (one coroutine of a process, see scheduler.lua) to be resumed.
function R.make_ready(t)
  if t.dead or t.queued or t.proc.dead then return end
  t.queued = true
  rtail = rtail + 1
  ready[rtail] = t
end

-- The next ready task, or nil when none is left.
function R.next_ready()
  if rhead > rtail then
    rhead, rtail = 1, 0
    return nil
  end
  local p = ready[rhead]
  ready[rhead] = nil
  rhead = rhead + 1
  p.queued = false
  return p
end

function R.has_ready() return rhead <= rtail end

---------------------------------------------------------------------------------------------
-- Opaque handles
--
-- A handle a script holds (channel, subscription, select case) is an empty table: its state lives
-- in a weak-keyed table only the runtime can read. A script can neither read nor rewrite a
-- handle's fields (an owner pid, a subscription id), so it cannot forge one or point one at
-- another process's state. rawset on a handle only adds fields the runtime never reads.

local function read_only(_, key)
  error("threadbus handles are read-only (tried to set " .. R.describe(key) .. ")", 2)
end

-- Returns a constructor proxy(state) and a lookup state_of(proxy) for one kind of handle.
-- `extra` adds metamethods (an error's __tostring); they run runtime code only.
function R.handle_kind(name, methods, extra)
  local states = setmetatable({}, { __mode = "k" })
  local meta = { __name = name, __metatable = name, __index = methods, __newindex = read_only }
  if extra then for k, v in next, extra do meta[k] = v end end
  local function proxy(state)
    local h = setmetatable({}, meta)
    states[h] = state
    return h
  end
  local function state_of(h) return states[h] end
  return proxy, state_of
end
