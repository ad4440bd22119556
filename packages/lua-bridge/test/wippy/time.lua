-- Durations in nanoseconds, strings or Duration values; Time values; after, timer and ticker.
local time = require("time")

local function main()
  assert(time.NANOSECOND == 1 and time.MICROSECOND == 1000 and time.MILLISECOND == 1000000)
  assert(time.SECOND == 1000000000 and time.MINUTE == 60 * time.SECOND and time.HOUR == 60 * time.MINUTE)
  local d = assert(time.parse_duration("1h30m45s500ms"))
  assert(d:milliseconds() == 5445500 and d:hours() > 1.51 and d:hours() < 1.52)
  assert(time.parse_duration(5 * time.MINUTE):minutes() == 5)
  local bad, err = time.parse_duration("soon")
  assert(bad == nil and err:kind() == errors.INVALID)

  local t = time.unix(1703862245, 0)
  assert(t:format_rfc3339() == "2023-12-29T15:04:05Z", t:format_rfc3339())
  assert(t:format(time.DATE_ONLY) == "2023-12-29" and t:format("Mon Jan 2, 2006") == "Fri Dec 29, 2023")
  assert(t:format(time.KITCHEN) == "3:04PM" and t:unix() == 1703862245)
  local later = t:add("24h")
  assert(later:sub(t):hours() == 24 and later:after(t) and t:before(later) and t:equal(time.unix(1703862245)))
  assert(later:format(time.DATE_ONLY) == "2023-12-30" and t:add_date(0, 1, 3):format(time.DATE_ONLY) == "2024-02-01")
  assert(time.date(2024, time.DECEMBER, 25, 10, 30, 0, 0, time.utc):format_rfc3339() == "2024-12-25T10:30:00Z")

  local parsed = assert(time.parse("2006-01-02 15:04:05 -0700", "2024-12-29 14:30:00 -0500"))
  assert(parsed:utc():format(time.RFC3339) == "2024-12-29T19:30:00Z", parsed:utc():format(time.RFC3339))
  assert(parsed:format(time.RFC3339) == "2024-12-29T14:30:00-05:00")
  assert(time.parse(time.RFC3339NANO, "2024-12-29T15:04:05.5Z"):nanosecond() == 500000000)
  local nope, perr = time.parse(time.RFC3339, "invalid")
  assert(nope == nil and errors.is(perr, errors.INVALID))
  local ist = time.fixed_zone("IST", 5 * 3600 + 30 * 60)
  local noon = time.date(2024, time.JANUARY, 15, 12, 0, 0, 0, ist)
  assert(noon:utc():format(time.TIME_ONLY) == "06:30:00" and noon:location():string() == "IST")
  local _, lerr = time.load_location("Unknown/Zone")
  assert(errors.is(lerr, errors.NOT_FOUND) and time.load_location("UTC") == time.utc)
  local hour = assert(time.parse_duration("1h"))
  local x = time.unix(1735486445) -- 15:34:05
  assert(x:round(hour):format(time.TIME_ONLY) == "16:00:00")
  assert(x:truncate(assert(time.parse_duration("15m"))):format(time.TIME_ONLY) == "15:30:00")

  local start = time.now()
  time.sleep("20ms")
  local elapsed = time.now():sub(start)
  assert(elapsed:milliseconds() >= 19, "slept " .. tostring(elapsed))

  local fired = time.after(10 * time.MILLISECOND):receive()
  assert(fired:sub(start):milliseconds() >= 29, "after delivers the time it fired")

  local timer = time.timer("10s")
  assert(timer:stop() == true and timer:stop() == false, "stop reports whether it was running")
  assert(timer:reset("5ms") == false)
  local r = channel.select{ timer:response():case_receive(), time.after("2s"):case_receive() }
  assert(r.channel == timer:channel(), "a reset timer fires")

  local ticker = time.ticker("5ms")
  for _ = 1, 3 do ticker:response():receive() end
  assert(ticker:stop() == true)
  local gone = channel.select{ ticker:response():case_receive(), time.after("30ms"):case_receive() }
  assert(gone.channel ~= ticker:response(), "a stopped ticker does not tick")
  local no, terr = time.ticker(0)
  assert(no == nil and terr:kind() == errors.INVALID, "a ticker needs a positive period")
  return true
end

return { main = main }
