-- Limits on how long a process runs between two yields: an instruction budget and a wall-clock
-- time slice, both counted per resume of the process across every coroutine it runs, and the
-- protected-call and coroutine functions scripts get, which cannot reset or escape either.
--
-- Why each piece exists (each was a way to freeze the host before):
-- * Hooks are set once per coroutine, when it is created, and never reset: a hook's countdown
--   survives yields, so yielding from an inner coroutine every few instructions earns no fresh
--   budget; each hook call charges the process being resumed, whichever coroutine it fires in.
-- * A hook that raises leaves its coroutine with hooks disabled until a protected call returns, so
--   nothing a script wrote may run after that: an xpcall message handler is skipped once the
--   process is doomed, coroutine.close refuses to run __close handlers of a doomed process, and
--   every protected call re-raises as it returns.
-- * A time slice, because instructions are not time: a budget of allocation-heavy instructions
--   blocked the host for seconds. os.clock() reads a wall clock in wasmoon (~0.1 µs a call); a
--   process past its slice in wall time is stopped once its thread also used that much CPU
--   (H.cpu, where the platform tells), so that a loaded machine does not stop correct scripts.
-- * What no hook can stop (a C function such as a string pattern match running for minutes) is
--   stopped by the host's watchdog, which terminates the engine's thread.
local R, H, C = ...
local type, tostring, error, pcall, xpcall, setmetatable = type, tostring, error, pcall, xpcall, setmetatable
local sethook, traceback = debug.sethook, debug.traceback
local co_create, co_resume, co_yield, co_status, co_close, co_running =
      coroutine.create, coroutine.resume, coroutine.yield, coroutine.status, coroutine.close,
      coroutine.running
local clock = os.clock
local describe, WAIT, AGAIN = R.describe, R.WAIT, R.AGAIN

local H_cpu = H.cpu
local BUDGET = C.instructionBudget
local SLICE_MS = C.timeSliceMs
local SLICE = SLICE_MS / 1000
-- Once over the slice in wall time, the thread's CPU time is read at most this often (seconds).
local RECHECK = 0.01
-- Instructions between two hook calls of a coroutine: a hook call (a Lua call and a clock read)
-- every 10,000 instructions (~70 µs of Lua on this machine class) costs about 1%.
local STEP = BUDGET < 10000 and BUDGET or 10000
-- Once a process is doomed, its hook fires this often, so a swallowed error comes back at once.
local FAIL_FAST = 100

local MESSAGES = {
  budget = "instruction budget exceeded: the process ran " .. BUDGET .. " instructions without yielding",
  time = "time slice exceeded: the process ran for more than " .. C.timeSliceMs .. " ms without yielding",
}
R.doomed_message = MESSAGES

local function hook()
  local p = R.current
  if p == nil then error("threadbus: a hooked coroutine ran outside any process", 0) end
  local doomed = p.doomed
  if not doomed then
    local used = p.used + STEP
    p.used = used
    if used >= BUDGET then
      doomed = "budget"
    else
      -- The thread's CPU time at the first hook of a resume (only resumes this long pay the read).
      local cpu0 = p.cpu0
      if cpu0 == nil then cpu0 = H_cpu(); p.cpu0 = cpu0 end
      local now = clock()
      if now - p.started < SLICE or now < p.recheck then return end
      -- Over the slice in wall time: on a loaded machine the thread may not have run that long.
      if cpu0 >= 0 and H_cpu() - cpu0 < SLICE_MS then
        p.recheck = now + RECHECK
        return
      end
      doomed = "time"
    end
    p.doomed = doomed
  end
  sethook(co_running(), hook, "", FAIL_FAST)
  error(MESSAGES[doomed], 0)
end

-- Arms a coroutine's hook. Called once per coroutine: setting it again would reset the countdown.
function R.arm(co) sethook(co, hook, "", STEP) end

-- Passes values through, or raises again if the current process is doomed.
local function check(...)
  local p = R.current
  if p and p.doomed then error(MESSAGES[p.doomed], 0) end
  return ...
end
R.check = check

-- The message handler of a process's outermost xpcall: turns the error into { message, traceback }
-- while still inside the process (a __tostring runs under the process's own budget), and runs
-- nothing a script wrote once the process is doomed (it may then run with hooks disabled).
function R.on_error(m)
  local p = R.current
  if p == nil or p.doomed then return { m, traceback(m, 2) } end
  if type(m) ~= "string" then
    local ok, s = pcall(tostring, m)
    if ok and type(s) == "string" then m = s else m = "(error object is " .. describe(m) .. ")" end
  end
  return { m, traceback(m, 2) }
end

---------------------------------------------------------------------------------------------
-- What scripts get as pcall, xpcall and coroutine.*

local function sandbox_pcall(f, ...) return check(pcall(f, ...)) end

local function sandbox_xpcall(f, handler, ...)
  if type(handler) ~= "function" then
    error("bad argument #2 to 'xpcall' (function expected, got " .. describe(handler) .. ")", 2)
  end
  return check(xpcall(f, function(m)
    local p = R.current
    if p and p.doomed then return m end
    return handler(m)
  end, ...))
end

-- Process main coroutines: no script may resume or close one (not even one it was handed).
local mains = setmetatable({}, { __mode = "k" })
R.mains = mains

local function sandbox_create(f)
  local co = co_create(f)
  sethook(co, hook, "", STEP)
  return co
end

-- A blocking call inside a script's coroutine yields WAIT/AGAIN through it to the scheduler.
local function pass_through(co, ok, first, ...)
  if ok and (first == WAIT or first == AGAIN) and co_status(co) == "suspended" then
    co_yield(first)
    return pass_through(co, co_resume(co))
  end
  return check(ok, first, ...)
end

local function sandbox_resume(co, ...)
  if mains[co] then return false, "cannot resume a process's own coroutine" end
  return pass_through(co, co_resume(co, ...))
end

local function sandbox_wrap(f)
  local co = sandbox_create(f)
  local function unwrap(ok, ...)
    if not ok then error((...), 0) end
    return ...
  end
  return function(...) return unwrap(sandbox_resume(co, ...)) end
end

local function sandbox_close(co)
  check()
  if mains[co] then return false, "cannot close a process's own coroutine" end
  return co_close(co)
end

R.sandbox_pcall = sandbox_pcall
R.sandbox_xpcall = sandbox_xpcall
-- coroutine.spawn (Wippy's engine primitive): fn runs as another task of the calling process.
local function sandbox_spawn(f)
  if type(f) ~= "function" then
    error("bad argument #1 to 'spawn' (function expected, got " .. describe(f) .. ")", 2)
  end
  return R.spawn_task(f)
end

R.sandbox_coroutine = {
  spawn = sandbox_spawn, create = sandbox_create, resume = sandbox_resume, wrap = sandbox_wrap, close = sandbox_close,
  yield = co_yield, status = co_status, running = co_running, isyieldable = coroutine.isyieldable,
}
