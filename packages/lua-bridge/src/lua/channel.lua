-- Channels (Go-style, buffered or not) and channel.select.
--
-- A channel's state is private (see R.handle_kind); scripts hold a handle. A subscription's
-- channel is "owned": it is fed from its process's event queue and only that process may read it.
-- A plain channel (channel.new) may be handed to another process of the same engine with
-- process.send on purpose: that is how two processes share one, as in Go.
local R = ...
local type, next, rawget, error = type, next, rawget, error
local co_yield = coroutine.yield
local mtype = math.type
local rawmeta = debug.getmetatable
local describe, make_ready, WAIT, NIL, fail = R.describe, R.make_ready, R.WAIT, R.NIL, R.fail
local INVALID = "INVALID"

local Methods = {}
local proxy, state_of = R.handle_kind("channel", Methods)
local CaseMethods = {}
local case_proxy, case_state = R.handle_kind("case", CaseMethods)

local function new_channel(cap, owner)
  local st = { buf = {}, head = 1, tail = 0, cap = cap, closed = false, owner = owner,
               waiters = nil, sendq = nil, proxy = nil }
  st.proxy = proxy(st)
  return st
end

-- Waiters are tasks (a process's coroutines, see scheduler.lua), readied when the channel changes;
-- `selsend` holds tasks parked in a select with a send case (see wake_senders).
local function wake(st, field)
  local w = st[field]
  if w then
    st[field] = nil
    for t in next, w do make_ready(t) end
  end
end
local function wake_waiters(st) wake(st, "waiters") end

local function push(st, v)
  local t = st.tail + 1
  st.tail = t
  if v == nil then v = NIL end
  st.buf[t] = v
  if st.waiters then wake_waiters(st) end
end

local function admit_sender(st)
  local q = st.sendq
  while q.head <= q.tail and (st.cap == nil or st.tail - st.head + 1 < st.cap) do
    local s = q[q.head]
    q[q.head] = nil
    q.head = q.head + 1
    if not s.cancelled then
      push(st, s.value)
      s.done = true
      make_ready(s.proc)
    end
  end
end

-- Returns true, value, ok when a receive can complete now; false otherwise.
local function try_recv(st)
  local h = st.head
  if h <= st.tail then
    local buf = st.buf
    local v = buf[h]
    buf[h] = nil
    if h == st.tail then st.head, st.tail = 1, 0 else st.head = h + 1 end
    if st.sendq then admit_sender(st) end
    -- A select waiting to send into this channel has room now.
    if st.waiters then wake_waiters(st) end
    if v == NIL then v = nil end
    return true, v, true
  end
  local q = st.sendq
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
  if st.closed then return true, nil, false end
  return false
end

local function close_channel(st)
  if st.closed then return end
  st.closed = true
  wake_waiters(st)
end

-- Parks the current task until one of the n channels is ready. A task waiting on its process's
-- subscription channels is flagged so that the host's next routed event wakes it (W command).
local function wait_on(sts, n)
  local t = R.task
  for i = 1, n do
    local st = sts[i]
    local w = st.waiters
    if not w then w = {}; st.waiters = w end
    w[t] = true
    if st.owner then t.feedwait = true end
  end
  co_yield(WAIT)
  t.feedwait = nil
  for i = 1, n do
    local w = sts[i].waiters
    if w then w[t] = nil end
  end
end

local function foreign(st)
  return st.owner ~= nil and st.owner ~= R.current.pid
end

-- Tasks parked in a select with a send case on an unbuffered channel: they can complete once a
-- receiver waits, so a receiver about to wait readies them (receivers never wake each other).
local function wake_senders(st) wake(st, "selsend") end

local function receive(st)
  local one = nil
  while true do
    local got, v, ok = try_recv(st)
    if got then return v, ok end
    if not (st.owner and R.refill(R.current)) then
      one = one or { st }
      if st.selsend then wake_senders(st) end
      wait_on(one, 1)
    end
  end
end

function Methods.receive(h)
  local st = state_of(h)
  if not st then return fail(INVALID, "ch:receive: expected a channel, got " .. describe(h) .. " (call it as ch:receive())") end
  if foreign(st) then return fail(INVALID, "ch:receive: the channel belongs to another process's subscription") end
  return receive(st)
end

-- Sending on a closed channel raises, as in Go and Wippy: it is a bug in the sender.
function Methods.send(h, v)
  local st = state_of(h)
  if not st then return fail(INVALID, "ch:send: expected a channel, got " .. describe(h) .. " (call it as ch:send(v))") end
  if st.owner then return fail(INVALID, "ch:send: a subscription's channel only carries bus events") end
  if st.closed then error("ch:send: the channel is closed", 2) end
  if st.cap == nil or st.tail - st.head + 1 < st.cap then
    push(st, v)
    return true
  end
  local q = st.sendq
  if not q then q = { head = 1, tail = 0 }; st.sendq = q end
  local s = { proc = R.task, value = v, done = false }
  q.tail = q.tail + 1
  q[q.tail] = s
  if st.waiters then wake_waiters(st) end
  local one = { st }
  while not s.done do
    if st.closed then
      s.cancelled = true
      error("ch:send: the channel was closed while sending", 2)
    end
    wait_on(one, 1)
  end
  return true
end

function Methods.close(h)
  local st = state_of(h)
  if not st then return fail(INVALID, "ch:close: expected a channel, got " .. describe(h)) end
  if foreign(st) then return fail(INVALID, "ch:close: the channel belongs to another process's subscription") end
  close_channel(st)
  return true
end

function Methods.case_receive(h)
  local st = state_of(h)
  if not st then return fail(INVALID, "ch:case_receive: expected a channel, got " .. describe(h)) end
  return case_proxy({ ch = st, send = false })
end

function Methods.case_send(h, v)
  local st = state_of(h)
  if not st then return fail(INVALID, "ch:case_send: expected a channel, got " .. describe(h)) end
  if st.owner then return fail(INVALID, "ch:case_send: a subscription's channel only carries bus events") end
  return case_proxy({ ch = st, send = true, value = v })
end

function Methods.len(h)
  local st = state_of(h)
  if not st then return fail(INVALID, "ch:len: expected a channel, got " .. describe(h)) end
  return st.tail - st.head + 1
end

-- A send case completes now when the buffer has room, or (unbuffered) when a task waits on the
-- channel to receive; the value is then buffered for it.
local function try_send(st, v)
  if st.closed then error("channel.select: send on a closed channel", 3) end
  local room = st.cap == nil or st.tail - st.head + 1 < st.cap
  if room or (st.cap == 0 and st.waiters and next(st.waiters) ~= nil and st.tail < st.head) then
    push(st, v)
    return true
  end
  return false
end

-- The first ready case, Wippy's way: { channel, value, ok } (plus `index`, the case's position);
-- with `default = true` in the table, { default = true, ok = true } at once when none is ready.
local function select_cases(cases)
  if type(cases) ~= "table" or rawmeta(cases) ~= nil then
    return fail(INVALID, "channel.select: expected a list of cases like { ch:case_receive() }, got " .. describe(cases))
  end
  local n = #cases
  local default = rawget(cases, "default") == true
  if n == 0 and not default then return fail(INVALID, "channel.select: expected at least one case") end
  local css, sts, fed = {}, {}, false
  for i = 1, n do
    local c = rawget(cases, i)
    local cs = case_state(c)
    if not cs then
      return fail(INVALID, "channel.select: case " .. i .. " is " .. describe(c) .. ", not a case (make one with ch:case_receive())")
    end
    local st = cs.ch
    if foreign(st) then
      return fail(INVALID, "channel.select: case " .. i .. " reads a channel of another process's subscription")
    end
    css[i], sts[i] = cs, st
    if st.owner and not st.closed then fed = true end
  end
  while true do
    for i = 1, n do
      local cs = css[i]
      if cs.send then
        if try_send(cs.ch, cs.value) then return { channel = cs.ch.proxy, value = cs.value, ok = true, index = i } end
      else
        local got, v, ok = try_recv(cs.ch)
        if got then return { channel = cs.ch.proxy, value = v, ok = ok, index = i } end
      end
    end
    if not (fed and R.refill(R.current)) then
      if default then return { default = true, ok = true } end
      local t = R.task
      for i = 1, n do
        local st = sts[i]
        if css[i].send then
          local w = st.selsend
          if not w then w = {}; st.selsend = w end
          w[t] = true
        elseif st.selsend then
          wake_senders(st)
        end
      end
      wait_on(sts, n)
      for i = 1, n do
        local w = sts[i].selsend
        if w then w[t] = nil end
      end
    end
  end
end

local function new_channel_checked(size)
  if size == nil then size = 0 end
  if mtype(size) ~= "integer" or size < 0 then
    return fail(INVALID, "channel.new: size must be a non-negative integer, got " .. describe(size))
  end
  return new_channel(size, nil).proxy
end

R.new_channel = new_channel
R.channel_state = state_of
R.push = push
R.close_channel = close_channel
R.receive = receive
R.channel_module = { new = new_channel_checked, select = select_cases }
