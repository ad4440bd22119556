-- The time module as Wippy's docs describe it (en/lua/core/time.md): durations are nanosecond
-- integers, strings ("1h30m", "500ms") or Duration values; time.now() is a Time; after, timer
-- and ticker deliver on channels. Times are UTC only (no time zone database in the sandbox).
local R, H = ...
local type, tostring, error, setmetatable = type, tostring, error, setmetatable
local co_yield = coroutine.yield
local mtype, floor, huge = math.type, math.floor, math.huge
local sformat, ssub, sbyte, sfind = string.format, string.sub, string.byte, string.find
local concat = table.concat
local H_sleep, H_cancel, H_wall = H.sleep, H.cancel, H.wall
local describe, fail, new_channel, push, WAIT, AGAIN = R.describe, R.fail, R.new_channel, R.push, R.WAIT, R.AGAIN
local INVALID = "INVALID"

local NANOSECOND, MICROSECOND, MILLISECOND = 1, 1000, 1000000
local SECOND = 1000 * MILLISECOND
local MINUTE, HOUR = 60 * SECOND, 3600 * SECOND
local UNITS = { ns = 1, us = MICROSECOND, ["µs"] = MICROSECOND, ["μs"] = MICROSECOND, ms = MILLISECOND,
                s = SECOND, m = MINUTE, h = HOUR }

local DurationMethods, TimeMethods = {}, {}
local duration_state, time_state
local function format_duration(ns)
  if ns == 0 then return "0s" end
  local sign = ns < 0 and "-" or ""
  if ns < 0 then ns = -ns end
  if ns < SECOND then
    if ns < MICROSECOND then return sign .. ns .. "ns" end
    if ns < MILLISECOND then return sign .. sformat("%g", ns / MICROSECOND) .. "µs" end
    return sign .. sformat("%g", ns / MILLISECOND) .. "ms"
  end
  local h, rest = ns // HOUR, ns % HOUR
  local m, s = rest // MINUTE, (rest % MINUTE) / SECOND
  local out = sign
  if h > 0 then out = out .. h .. "h" end
  if h > 0 or m > 0 then out = out .. m .. "m" end
  return out .. sformat("%.9f", s):gsub("%.?0+$", "") .. "s"
end
local duration_proxy
duration_proxy, duration_state = R.handle_kind("duration", DurationMethods, {
  __tostring = function(h) return format_duration(duration_state(h).ns) end,
})
local time_proxy
time_proxy, time_state = R.handle_kind("time", TimeMethods, {
  __tostring = function(h) return TimeMethods.format_rfc3339(h) end,
})
local function duration(ns) return duration_proxy({ ns = ns }) end
local function at(ns, loc) return time_proxy({ ns = ns, loc = loc }) end

-- Go's time.ParseDuration grammar: [-+]? ( number unit )+, or "0".
local function parse_string(s)
  local i, len, sign, total = 1, #s, 1, 0
  local c = ssub(s, 1, 1)
  if c == "-" or c == "+" then
    if c == "-" then sign = -1 end
    i = 2
  end
  if ssub(s, i) == "0" then return 0 end
  if i > len then return nil end
  while i <= len do
    local _, e, number = sfind(s, "^([0-9]*%.?[0-9]*)", i)
    if number == "" or number == "." then return nil end
    i = e + 1
    local _, ue, unit = sfind(s, "^([^0-9.]+)", i)
    if not unit then return nil end
    local scale = UNITS[unit]
    if not scale then return nil end
    total = total + tonumber(number) * scale
    i = ue + 1
  end
  return floor(sign * total)
end

-- Nanoseconds from a number, string or Duration; nil and the reason otherwise.
local function to_ns(v, what)
  local t = type(v)
  if t == "number" then
    if v ~= v or v == huge or v == -huge then return nil, what .. ": a duration must be finite, got " .. describe(v) end
    return mtype(v) == "integer" and v or floor(v)
  end
  if t == "string" then
    local ns = parse_string(v)
    if ns == nil then return nil, what .. ": invalid duration " .. describe(v) .. " (e.g. \"1h30m\", \"500ms\")" end
    return ns
  end
  local st = duration_state(v)
  if st then return st.ns end
  return nil, what .. ": expected a duration (nanoseconds, a string like \"5s\" or a Duration), got " .. describe(v)
end

function DurationMethods.nanoseconds(h) return duration_state(h).ns end
function DurationMethods.microseconds(h) return duration_state(h).ns / MICROSECOND end
function DurationMethods.milliseconds(h) return duration_state(h).ns / MILLISECOND end
function DurationMethods.seconds(h) return duration_state(h).ns / SECOND end
function DurationMethods.minutes(h) return duration_state(h).ns / MINUTE end
function DurationMethods.hours(h) return duration_state(h).ns / HOUR end
function DurationMethods.string(h) return format_duration(duration_state(h).ns) end

local time = {
  NANOSECOND = NANOSECOND, MICROSECOND = MICROSECOND, MILLISECOND = MILLISECOND,
  SECOND = SECOND, MINUTE = MINUTE, HOUR = HOUR,
}

function time.parse_duration(v)
  local ns, err = to_ns(v, "time.parse_duration")
  if ns == nil then return fail(INVALID, err) end
  return duration(ns)
end

-- The wall clock in nanoseconds since the epoch (H.wall: ms with a fraction, from the
-- performance clock, so that differences are monotonic within an engine).
local function now_ns()
  local ms = H_wall()
  local whole = floor(ms)
  return whole * MILLISECOND + floor((ms - whole) * MILLISECOND)
end

function time.now() return at(now_ns()) end

function time.unix(sec, nsec)
  if type(sec) ~= "number" then error("time.unix: sec must be a number, got " .. describe(sec), 2) end
  if nsec ~= nil and type(nsec) ~= "number" then error("time.unix: nsec must be a number, got " .. describe(nsec), 2) end
  return at(floor(sec * SECOND) + floor(nsec or 0))
end

R.time_format(time, TimeMethods, time_state, at, to_ns, duration)
R.time_parse(time, at)

---------------------------------------------------------------------------------------------
-- Sleeping and timers: each arms a host timer (H.sleep) whose firing runs fire() (T command).

local function arm(p, ns, fire)
  local ms = ns / MILLISECOND
  if ms < 0 then ms = 0 end
  local token = H_sleep(p.pid, ms)
  p.timers[token] = fire
  return token
end

local function disarm(p, token)
  if token and p.timers[token] then
    p.timers[token] = nil
    H_cancel(p.pid, token)
    return true
  end
  return false
end

function time.sleep(d)
  local ns, err = to_ns(d, "time.sleep")
  if ns == nil then return fail(INVALID, err) end
  if ns <= 0 then
    co_yield(AGAIN)
    return true
  end
  local p, t = R.current, R.task
  local done = false
  arm(p, ns, function() done = true; R.make_ready(t) end)
  repeat co_yield(WAIT) until done
  return true
end

-- A channel that receives the time once, after d.
function time.after(d)
  local ns, err = to_ns(d, "time.after")
  if ns == nil then return fail(INVALID, err) end
  local ch = new_channel(1, nil)
  arm(R.current, ns, function() push(ch, at(now_ns())) end)
  return ch.proxy
end

local TimerMethods = {}
local timer_proxy, timer_state = R.handle_kind("timer", TimerMethods)

local function start_timer(st, ns)
  st.token = arm(st.proc, ns, function()
    st.token = nil
    if st.period then
      -- A ticker drops a tick its reader has not taken yet, as Go's does.
      if st.ch.tail < st.ch.head then push(st.ch, at(now_ns())) end
      start_timer(st, st.period)
    else
      push(st.ch, at(now_ns()))
    end
  end)
end

local function new_timer(d, what, repeating)
  local ns, err = to_ns(d, what)
  if ns == nil then return fail(INVALID, err) end
  if ns <= 0 then return fail(INVALID, what .. ": the duration must be positive, got " .. format_duration(ns)) end
  local st = { proc = R.current, ch = new_channel(1, nil), period = repeating and ns or nil, token = nil }
  start_timer(st, ns)
  return timer_proxy(st)
end

function time.timer(d) return new_timer(d, "time.timer", false) end
function time.ticker(d) return new_timer(d, "time.ticker", true) end

local function own_timer(h, what)
  local st = timer_state(h)
  if not st then error(what .. ": expected a timer, got " .. describe(h), 3) end
  if st.proc ~= R.current then error(what .. ": the timer belongs to another process", 3) end
  return st
end

function TimerMethods.response(h) return own_timer(h, "timer:response").ch.proxy end
TimerMethods.channel = TimerMethods.response

-- True if the timer was running (it will not fire now).
function TimerMethods.stop(h)
  local st = own_timer(h, "timer:stop")
  local was = disarm(st.proc, st.token)
  st.token = nil
  st.period = st.period and false or nil
  return was
end

function TimerMethods.reset(h, d)
  local st = own_timer(h, "timer:reset")
  local ns, err = to_ns(d, "timer:reset")
  if ns == nil then return fail(INVALID, err) end
  local was = disarm(st.proc, st.token)
  if st.period ~= nil then st.period = ns end
  start_timer(st, ns)
  return was
end

R.modules.time = time
