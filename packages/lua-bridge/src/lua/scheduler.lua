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
local H_poll, H_exit, H_enter, H_leave, H_register, H_lost =
      H.poll, H.exit, H.enter, H.leave, H.register, H.lost
local procs, make_ready, next_ready, has_ready = R.procs, R.make_ready, R.next_ready, R.has_ready
local describe, arm, mains, on_error, encode, close_channel, deliver, make_env =
      R.describe, R.arm, R.mains, R.on_error, R.encode, R.close_channel, R.deliver, R.make_env
local doomed_message, WAIT, LOAD_MODE = R.doomed_message, R.WAIT, R.load_mode

local MEMORY = "not enough memory"
-- A tick runs ready processes for at most this long before the engine's event loop gets a turn
-- (to take events, commands and the host's messages): seconds, as os.clock counts.
local TICK = 0.02

-- A process's coroutine body: runs the script under xpcall and reports how it ended, as
-- "ok", json | "error", message, traceback | "memory", message.
local function main_of(f)
  return function()
    local ok, value = xpcall(f, on_error)
    if ok then
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

-- Compiles and starts a process. pid is nil when a Lua process spawns a child: JS registers one.
local function spawn(pid, name, source, parent)
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
  local co = co_create(main_of(f))
  arm(co)
  mains[co] = true
  local p = { pid = pid, name = name, env = env, co = co, subs = {}, fresh = true, queued = false,
              dead = false, used = 0, started = 0, cpu0 = nil, recheck = 0, doomed = nil }
  procs[pid] = p
  make_ready(p)
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
  if lost > 0 then H_lost(lost) end
end

local function drop(p)
  p.dead = true
  p.co = nil
  procs[p.pid] = nil
  close_all(p)
end

local function finish(p, status, message, payload)
  drop(p)
  H_exit(p.pid, status, message, payload)
end

local function step(p)
  R.current = p
  p.fresh = true
  p.used = 0
  p.started = clock()
  p.cpu0 = nil
  p.recheck = 0
  local co = p.co
  H_enter(p.pid)
  local ok, status, a, b = co_resume(co)
  H_leave()
  R.current = nil
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
      drop(p)
      collect("collect")
      return H_exit(p.pid, "memory", message, "")
    end
    return finish(p, "error", message, traceback(co, message))
  end
  if co_status(co) == "dead" then
    if status == "memory" then
      drop(p)
      collect("collect")
      return H_exit(p.pid, "memory", a, "")
    end
    if status == "ok" then return finish(p, "ok", "", a) end
    return finish(p, "error", a, b)
  end
  if status ~= WAIT then make_ready(p) end
end

---------------------------------------------------------------------------------------------
-- Commands from the host, as one generated chunk per tick

local COMMANDS = {
  -- spawn(pid, name, source)
  S = function(pid, name, source) spawn(pid, name, source, nil) end,
  -- kill(pid): its subscriptions and channels close; its coroutine is dropped
  K = function(pid)
    local p = procs[pid]
    if p then drop(p) end
  end,
  -- wake(pid): events were routed to a process waiting on its subscriptions
  W = function(pid)
    local p = procs[pid]
    if p and p.feedwait then make_ready(p) end
  end,
  -- timer(pid, token): a time.sleep ended
  T = function(pid, token)
    local p = procs[pid]
    if p and p.sleep == token then p.sleep = nil; make_ready(p) end
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
    local p = next_ready()
    if p == nil then return 0 end
    if not p.dead then
      n = n + 1
      step(p)
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
