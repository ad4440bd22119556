-- Channels (Go-style, buffered or not) and channel.select.
--
-- A channel's state is private (see R.handle_kind); scripts hold a handle. A subscription's
-- channel is "owned": it is fed from its process's event queue and only that process may read it.
-- A plain channel (channel.new) may be handed to another process of the same engine with
-- process.send on purpose: that is how two processes share one, as in Go.
local R = ...
local type, next, rawget = type, next, rawget
local co_yield = coroutine.yield
local mtype = math.type
local rawmeta = debug.getmetatable
local describe, make_ready, WAIT, NIL = R.describe, R.make_ready, R.WAIT, R.NIL

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

local function wake_waiters(st)
  local w = st.waiters
  if w then
    st.waiters = nil
    for p in next, w do make_ready(p) end
  end
end

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

-- Parks the current process until one of the n channels is ready. A process waiting on its own
-- subscription channels is flagged so that the host's next routed event wakes it (W command).
local function wait_on(sts, n)
  local p = R.current
  for i = 1, n do
    local st = sts[i]
    local w = st.waiters
    if not w then w = {}; st.waiters = w end
    w[p] = true
    if st.owner then p.feedwait = true end
  end
  co_yield(WAIT)
  p.feedwait = nil
  for i = 1, n do
    local w = sts[i].waiters
    if w then w[p] = nil end
  end
end

local function foreign(st)
  return st.owner ~= nil and st.owner ~= R.current.pid
end

local function receive(st)
  local one = nil
  while true do
    local got, v, ok = try_recv(st)
    if got then return v, ok end
    if not (st.owner and R.refill(R.current)) then
      one = one or { st }
      wait_on(one, 1)
    end
  end
end

function Methods.receive(h)
  local st = state_of(h)
  if not st then return nil, "ch:receive: expected a channel, got " .. describe(h) .. " (call it as ch:receive())" end
  if foreign(st) then return nil, "ch:receive: the channel belongs to another process's subscription" end
  return receive(st)
end

function Methods.send(h, v)
  local st = state_of(h)
  if not st then return nil, "ch:send: expected a channel, got " .. describe(h) .. " (call it as ch:send(v))" end
  if st.owner then return nil, "ch:send: a subscription's channel only carries bus events" end
  if st.closed then return nil, "ch:send: the channel is closed" end
  if st.cap == nil or st.tail - st.head + 1 < st.cap then
    push(st, v)
    return true
  end
  local q = st.sendq
  if not q then q = { head = 1, tail = 0 }; st.sendq = q end
  local s = { proc = R.current, value = v, done = false }
  q.tail = q.tail + 1
  q[q.tail] = s
  if st.waiters then wake_waiters(st) end
  local one = { st }
  while not s.done do
    if st.closed then
      s.cancelled = true
      return nil, "ch:send: the channel was closed while sending"
    end
    wait_on(one, 1)
  end
  return true
end

function Methods.close(h)
  local st = state_of(h)
  if not st then return nil, "ch:close: expected a channel, got " .. describe(h) end
  if foreign(st) then return nil, "ch:close: the channel belongs to another process's subscription" end
  close_channel(st)
  return true
end

function Methods.case_receive(h)
  local st = state_of(h)
  if not st then return nil, "ch:case_receive: expected a channel, got " .. describe(h) end
  return case_proxy(st)
end

function Methods.len(h)
  local st = state_of(h)
  if not st then return nil, "ch:len: expected a channel, got " .. describe(h) end
  return st.tail - st.head + 1
end

local function select_cases(cases)
  if type(cases) ~= "table" or rawmeta(cases) ~= nil then
    return nil, "channel.select: expected a list of cases like { ch:case_receive() }, got " .. describe(cases)
  end
  local n = #cases
  if n == 0 then return nil, "channel.select: expected at least one case" end
  local sts, fed = {}, false
  for i = 1, n do
    local c = rawget(cases, i)
    local st = case_state(c)
    if not st then
      return nil, "channel.select: case " .. i .. " is " .. describe(c) .. ", not a case (make one with ch:case_receive())"
    end
    if foreign(st) then
      return nil, "channel.select: case " .. i .. " reads a channel of another process's subscription"
    end
    sts[i] = st
    if st.owner and not st.closed then fed = true end
  end
  while true do
    for i = 1, n do
      local got, v, ok = try_recv(sts[i])
      if got then return i, v, ok end
    end
    if not (fed and R.refill(R.current)) then wait_on(sts, n) end
  end
end

local function new_channel_checked(size)
  if size == nil then size = 0 end
  if mtype(size) ~= "integer" or size < 0 then
    return nil, "channel.new: size must be a non-negative integer, got " .. describe(size)
  end
  return new_channel(size, nil).proxy
end

R.new_channel = new_channel
R.channel_state = state_of
R.push = push
R.close_channel = close_channel
R.receive = receive
R.channel_module = { new = new_channel_checked, select = select_cases }
