-- The scheduler: starts processes, resumes ready ones, runs the host's commands, reports exits.
--
-- Nothing a script wrote ever runs here, on the VM's main state, where no hook can stop it: a
-- process's error is turned into text, and its return value into JSON, inside the process (see
-- main_of); a process that is killed or fails is dropped, never closed, since coroutine.close
-- would run its pending __close handlers here.
local R, H = ...
local type, load, error, next = type, load, error, next
local co_create, co_resume, co_status = coroutine.create, coroutine.resume, coroutine.status
local traceback = debug.traceback
local clock = os.clock
local concat = table.concat
local collect, xpcall = collectgarbage, xpcall
local H_poll, H_exit, H_enter, H_leave, H_register, H_lost, H_cancel =
      H.poll, H.exit, H.enter, H.leave, H.register, H.lost, H.cancel
local rawget, unpack = rawget, table.unpack
local rawmeta = debug.getmetatable
local procs, make_ready, next_ready, has_ready = R.procs, R.make_ready, R.next_ready, R.has_ready
local describe, arm, mains, on_error, encode, close_channel, deliver, make_env =
      R.describe, R.arm, R.mains, R.on_error, R.encode, R.close_channel, R.deliver, R.make_env
local doomed_message, WAIT, LOAD_MODE = R.doomed_message, R.WAIT, R.load_mode

local MEMORY = "not enough memory"
-- A tick runs ready processes for at most this long before the engine's event loop gets a turn
-- (to take events, commands and the host's messages): seconds, as os.clock counts.
local TICK = 0.02

-- A process's coroutine body: runs the script under xpcall and reports how it ended, as
-- "ok", json | "error", message, traceback | "memory", message. A script that returns a module
-- with a `main` function (Wippy's entry convention, `return { main = main }`) has main called
-- with the spawn's arguments; main's return value is the process's.
local function main_of(f, args)
  return function()
    local ok, value = xpcall(f, on_error)
    if ok and type(value) == "table" and rawmeta(value) == nil and type(rawget(value, "main")) == "function" then
      ok, value = xpcall(rawget(value, "main"), on_error, unpack(args, 1, args.n))
    end
    if ok then
      R.current.result = value
      if value == nil then return "ok", "" end
      local json, err = encode(value)
      if json then return "ok", json end
      return "error", "return value: " .. err, ""
    end
    if type(value) == "table" then return "error", value[1], value[2] end
    if value == MEMORY then return "memory", value, "" end
    return "error", type(value) == "string" and value or describe(value), ""
  end
end

-- The body of a coroutine.spawn task: its return value is dropped; an error ends the process.
local function task_of(f)
  return function()
    local ok, value = xpcall(f, on_error)
    if ok then return "ok", "" end
    if type(value) == "table" then return "error", value[1], value[2] end
    if value == MEMORY then return "memory", value, "" end
    return "error", type(value) == "string" and value or describe(value), ""
  end
end

-- A task is one coroutine of a process: its main one, or one from coroutine.spawn. The ready
-- queue, channel waiters and timers hold tasks; budgets, subscriptions and inboxes are the
-- process's.
local function new_task(p, body, main)
  local co = co_create(body)
  arm(co)
  mains[co] = true
  local t = { proc = p, co = co, main = main, queued = false, dead = false }
  p.tasks[t] = true
  make_ready(t)
  return t
end

-- coroutine.spawn(fn): runs fn concurrently with the calling process, on its scheduler.
function R.spawn_task(f)
  local p = R.current
  return new_task(p, task_of(f), false).co
end

-- Compiles and starts a process. pid is nil when a Lua process spawns a child: JS registers one.
-- args (a table with n) go to a returned module's main.
local function spawn(pid, name, source, parent, args)
  local env = make_env()
  local f, err = load(source, "=" .. name, LOAD_MODE, env)
  if not f then
    if pid then H_exit(pid, "error", err, "") end
    return nil, err
  end
  if not pid then
    pid = H_register(parent, name)
    if pid <= 0 then return nil, "the host is closing" end
  end
  local p = { pid = pid, name = name, env = env, subs = {}, tasks = {}, timers = {}, fresh = true,
              dead = false, used = 0, started = 0, cpu0 = nil, recheck = 0, doomed = nil }
  procs[pid] = p
  new_task(p, main_of(f, args or { n = 0 }), true)
  return pid
end
R.spawn = spawn

-- Messages still queued for a process that ends were accepted by process.send: count them.
local function unread(st) return st.tail - st.head + 1 end

local function close_all(p)
  for _, sub in next, p.subs do
    sub.closed = true
    close_channel(sub.ch)
  end
  local lost = 0
  if p.inbox then
    lost = unread(p.inbox)
    close_channel(p.inbox)
  end
  if p.listeners then
    for _, st in next, p.listeners do
      lost = lost + unread(st)
      close_channel(st)
    end
  end
  if p.events then close_channel(p.events) end
  if lost > 0 then H_lost(lost) end
  for token in next, p.timers do H_cancel(p.pid, token) end
end

-- Ends a process; `value`/`err` are what its monitors and links hear (R.notify_exit, api.lua).
local function drop(p, value, err)
  p.dead = true
  for t in next, p.tasks do t.dead = true; t.co = nil end
  p.tasks = {}
  procs[p.pid] = nil
  close_all(p)
  R.notify_exit(p, value, err)
end

local function finish(p, status, message, payload)
  if status == "ok" then drop(p, p.result, nil) else drop(p, nil, message) end
  H_exit(p.pid, status, message, payload)
end

local function step(t)
  local p = t.proc
  R.current = p
  R.task = t
  p.fresh = true
  p.used = 0
  p.started = clock()
  p.cpu0 = nil
  p.recheck = 0
  local co = t.co
  H_enter(p.pid)
  local ok, status, a, b = co_resume(co)
  H_leave()
  R.current = nil
  R.task = nil
  if p.dead then return end
  local doomed = p.doomed
  if doomed then
    local message = doomed_message[doomed]
    local trace = b
    if not (ok and co_status(co) == "dead") then trace = traceback(co, message) end
    return finish(p, doomed, message, type(trace) == "string" and trace or "")
  end
  if not ok then
    -- Escaped the script's xpcall: its wrapper ran out of memory.
    local message = type(status) == "string" and status or describe(status)
    if message == MEMORY then
      drop(p, nil, message)
      collect("collect")
      return H_exit(p.pid, "memory", message, "")
    end
    return finish(p, "error", message, traceback(co, message))
  end
  if co_status(co) == "dead" then
    if status == "memory" then
      drop(p, nil, a)
      collect("collect")
      return H_exit(p.pid, "memory", a, "")
    end
    if status == "error" then return finish(p, "error", a, b) end
    if t.main then return finish(p, "ok", "", a) end
    -- A spawned task returned: the process goes on.
    t.dead = true
    t.co = nil
    p.tasks[t] = nil
    return
  end
  if status ~= WAIT then make_ready(t) end
end

---------------------------------------------------------------------------------------------
-- Commands from the host, as one generated chunk per tick

local COMMANDS = {
  -- spawn(pid, name, source, args): args are the arguments of a returned module's main
  S = function(pid, name, source, args) spawn(pid, name, source, nil, args) end,
  -- kill(pid): its subscriptions and channels close; its coroutines are dropped
  K = function(pid)
    local p = procs[pid]
    if p then drop(p, nil, "terminated") end
  end,
  -- wake(pid): events were routed to a process whose tasks may wait on its subscriptions
  W = function(pid)
    local p = procs[pid]
    if not p then return end
    for t in next, p.tasks do
      if t.feedwait then make_ready(t) end
    end
  end,
  -- timer(pid, token): a timer of time.sleep/after/timer/ticker fired
  T = function(pid, token)
    local p = procs[pid]
    local fire = p and p.timers[token]
    if fire then
      p.timers[token] = nil
      fire()
    end
  end,
  -- message(pid, from, topic, args, n): process.send from a process of another engine
  M = function(pid, from, topic, args, n)
    local p = procs[pid]
    if not p then return H_lost(1) end
    args.n, args.from, args.topic = n, from, topic
    deliver(p, args)
  end,
}

local function poll()
  local src = H_poll()
  if src == nil then return end
  local chunk, err = load(src, "=host", "t", COMMANDS)
  if not chunk then error("threadbus: bad host commands: " .. err, 0) end
  chunk()
end

---------------------------------------------------------------------------------------------
-- The interface JS calls

local interface = {}

-- Runs the host's commands, then ready processes until none is left (returns 0), or until max
-- resumes were made or the tick's time is up (returns 1: more work is ready).
function interface.run(max)
  poll()
  local deadline = clock() + TICK
  local n = 0
  while true do
    local t = next_ready()
    if t == nil then return 0 end
    if not t.dead then
      n = n + 1
      step(t)
    end
    if n >= max or clock() >= deadline then return has_ready() and 1 or 0 end
  end
end

-- "pid count pid count ...": events already handed to Lua and not yet received, per process.
function interface.buffered()
  local out = {}
  for pid, p in next, procs do
    local count = 0
    for _, sub in next, p.subs do count = count + (sub.ch.tail - sub.ch.head + 1) end
    out[#out + 1] = pid .. " " .. count
  end
  return concat(out, " ")
end

R.interface = interface
