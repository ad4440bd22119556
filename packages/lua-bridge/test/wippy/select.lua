-- channel.select: result tables, default, send cases; channels from channel.new.
local function main()
  local a, b = channel.new(1), channel.new()
  local r = channel.select{ a:case_receive(), b:case_receive(), default = true }
  assert(r.default == true and r.ok == true and r.channel == nil, "default returns at once when nothing is ready")

  r = channel.select{ a:case_send("x"), b:case_receive() }
  assert(r.channel == a and r.value == "x" and r.ok == true, "a send case with room completes")
  r = channel.select{ a:case_receive(), b:case_receive() }
  assert(r.channel == a and r.value == "x" and r.ok == true and r.default == nil)

  local done = channel.new(1)
  coroutine.spawn(function()
    local v, ok = b:receive()
    done:send({ v = v, ok = ok })
  end)
  r = channel.select{ b:case_send(42) }
  assert(r.channel == b, "an unbuffered send case completes once a receiver waits")
  local got = done:receive()
  assert(got.v == 42 and got.ok == true)

  a:close()
  r = channel.select{ a:case_receive() }
  assert(r.channel == a and r.value == nil and r.ok == false, "a closed channel is ready with ok = false")
  assert(not pcall(a.send, a, 1), "send on a closed channel raises")

  -- Producer and consumer as spawned coroutines, as in Wippy's engine spec.
  local ch, total = channel.new(5), channel.new(1)
  coroutine.spawn(function()
    for i = 1, 10 do ch:send(i) end
    ch:close()
  end)
  coroutine.spawn(function()
    local sum = 0
    while true do
      local v, ok = ch:receive()
      if not ok then break end
      sum = sum + v
    end
    total:send(sum)
  end)
  assert(total:receive() == 55)
  return true
end

return { main = main }
