-- Time values: calendar fields, comparison, locations (UTC and fixed offsets: the sandbox has no
-- time zone database) and Go's reference layouts ("2006-01-02T15:04:05Z07:00") both ways, as
-- Wippy's time module offers them.
local R = ...
local type, error = type, error
local sformat, ssub, sfind = string.format, string.sub, string.find
local concat = table.concat
local describe = R.describe

local SECOND = 1000000000
local DAY = 86400
local MONTHS = { "January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December" }
local DAYS = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" }

-- Days since 1970-01-01 -> year, month, day (Howard Hinnant's civil_from_days).
local function civil(days)
  local z = days + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local mp = m > 2 and m - 3 or m + 9
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- The calendar fields of ns (since the epoch) as seen in location loc (nil: UTC).
local function fields(ns, loc)
  local off = loc and loc.offset or 0
  local local_ns = ns + off * SECOND
  local sec = local_ns // SECOND
  local days = sec // DAY
  local rest = sec - days * DAY
  local y, m, d = civil(days)
  return {
    year = y, month = m, day = d, hour = rest // 3600, minute = rest % 3600 // 60, second = rest % 60,
    nano = local_ns % SECOND, weekday = (days + 4) % 7, yday = days - days_from_civil(y, 1, 1) + 1,
    off = off, zone = loc and loc.name or "UTC",
  }
end

local function zone(f, colon, z)
  if z and f.off == 0 then return "Z" end
  local off = f.off < 0 and -f.off or f.off
  return sformat(colon and "%s%02d:%02d" or "%s%02d%02d", f.off < 0 and "-" or "+", off // 3600, off % 3600 // 60)
end

local function fraction(nano, digits, trim)
  local s = ssub(sformat("%09d", nano), 1, digits)
  if trim then
    s = s:gsub("0+$", "")
    if s == "" then return "" end
  end
  return "." .. s
end

-- Layout tokens, longest first at each position (Go's time/format.go chooses the same way).
local TOKENS = {
  { "January", function(f) return MONTHS[f.month] end },
  { "Monday", function(f) return DAYS[f.weekday + 1] end },
  { "2006", function(f) return sformat("%04d", f.year) end },
  { "Z07:00", function(f) return zone(f, true, true) end },
  { "-07:00", function(f) return zone(f, true, false) end },
  { "Z0700", function(f) return zone(f, false, true) end },
  { "-0700", function(f) return zone(f, false, false) end },
  { "Jan", function(f) return ssub(MONTHS[f.month], 1, 3) end },
  { "Mon", function(f) return ssub(DAYS[f.weekday + 1], 1, 3) end },
  { "MST", function(f) return f.zone ~= "" and f.zone or zone(f, false, false) end },
  { "002", function(f) return sformat("%03d", f.yday) end },
  { "01", function(f) return sformat("%02d", f.month) end },
  { "02", function(f) return sformat("%02d", f.day) end },
  { "_2", function(f) return sformat("%2d", f.day) end },
  { "15", function(f) return sformat("%02d", f.hour) end },
  { "03", function(f) return sformat("%02d", (f.hour + 11) % 12 + 1) end },
  { "04", function(f) return sformat("%02d", f.minute) end },
  { "05", function(f) return sformat("%02d", f.second) end },
  { "06", function(f) return sformat("%02d", f.year % 100) end },
  { "PM", function(f) return f.hour >= 12 and "PM" or "AM" end },
  { "pm", function(f) return f.hour >= 12 and "pm" or "am" end },
  { "1", function(f) return tostring(f.month) end },
  { "2", function(f) return tostring(f.day) end },
  { "3", function(f) return tostring((f.hour + 11) % 12 + 1) end },
  { "4", function(f) return tostring(f.minute) end },
  { "5", function(f) return tostring(f.second) end },
}

local function format(ns, loc, layout)
  local f = fields(ns, loc)
  local out, n, i, len = {}, 0, 1, #layout
  while i <= len do
    local done = false
    -- ".000" / ",999": fractional seconds, fixed or trimmed.
    local _, e, sep, digits = sfind(layout, "^([.,])(0+)", i)
    local trim = false
    if not e then
      _, e, sep, digits = sfind(layout, "^([.,])(9+)", i)
      trim = e ~= nil
    end
    if e and not sfind(ssub(layout, e + 1, e + 1), "^%d") then
      n = n + 1
      local frac = fraction(f.nano, #digits, trim)
      out[n] = sep == "," and frac:gsub("^%.", ",") or frac
      i = e + 1
      done = true
    end
    if not done then
      for k = 1, #TOKENS do
        local token = TOKENS[k][1]
        if ssub(layout, i, i + #token - 1) == token then
          n = n + 1
          out[n] = TOKENS[k][2](f)
          i = i + #token
          done = true
          break
        end
      end
    end
    if not done then
      n = n + 1
      out[n] = ssub(layout, i, i)
      i = i + 1
    end
  end
  return concat(out)
end

local LAYOUTS = {
  RFC3339 = "2006-01-02T15:04:05Z07:00", RFC3339NANO = "2006-01-02T15:04:05.999999999Z07:00",
  RFC822 = "02 Jan 06 15:04 MST", RFC822Z = "02 Jan 06 15:04 -0700", RFC850 = "Monday, 02-Jan-06 15:04:05 MST",
  RFC1123 = "Mon, 02 Jan 2006 15:04:05 MST", RFC1123Z = "Mon, 02 Jan 2006 15:04:05 -0700",
  DATE_TIME = "2006-01-02 15:04:05", DATE_ONLY = "2006-01-02", TIME_ONLY = "15:04:05", KITCHEN = "3:04PM",
  STAMP = "Jan _2 15:04:05", STAMP_MILLI = "Jan _2 15:04:05.000", STAMP_MICRO = "Jan _2 15:04:05.000000",
  STAMP_NANO = "Jan _2 15:04:05.000000000",
}

R.time_fields = fields
R.days_from_civil = days_from_civil
R.time_tokens = TOKENS
R.time_months, R.time_days = MONTHS, DAYS

local LocationMethods = {}
local location_state
local location_proxy
location_proxy, location_state = R.handle_kind("location", LocationMethods, {
  __tostring = function(h) return location_state(h).name end,
})
function LocationMethods.string(h) return location_state(h).name end
local UTC = location_proxy({ name = "UTC", offset = 0 })

-- Fills the time module's constants and Time's methods (called by time.lua with its handles).
-- A Time's state is { ns = since the epoch, loc = location state or nil for UTC }.
function R.time_format(time, M, state_of, at, to_ns, duration)
  for name, layout in next, LAYOUTS do time[name] = layout end
  for i = 1, 12 do time[MONTHS[i]:upper()] = i end
  for i = 1, 7 do time[DAYS[i]:upper()] = i - 1 end
  time.utc = UTC
  time.localtz = UTC -- the engines have no local zone: local is UTC

  local function st_of(h, what)
    local st = state_of(h)
    if not st then error(what .. ": expected a Time, got " .. describe(h), 3) end
    return st
  end
  local function ns_of(h, what) return st_of(h, what).ns end
  local function loc_of(v, what)
    if v == nil then return nil end
    local loc = location_state(v)
    if not loc then error(what .. ": expected a location (time.utc, time.fixed_zone), got " .. describe(v), 3) end
    return loc.offset == 0 and loc.name == "UTC" and nil or loc
  end

  function time.fixed_zone(name, offset)
    if type(name) ~= "string" then error("time.fixed_zone: name must be a string, got " .. describe(name), 2) end
    if math.type(offset) ~= "integer" then error("time.fixed_zone: offset must be integer seconds, got " .. describe(offset), 2) end
    return location_proxy({ name = name, offset = offset })
  end

  function time.load_location(name)
    if type(name) ~= "string" then error("time.load_location: name must be a string, got " .. describe(name), 2) end
    if name == "" then return R.fail("INVALID", "time.load_location: the name is empty") end
    if name == "UTC" or name == "Local" then return UTC end
    return R.fail("NOT_FOUND", "time.load_location: no time zone database in the sandbox: " .. describe(name)
      .. " is unknown (UTC and time.fixed_zone work)")
  end

  function time.date(y, mo, d, h, mi, s, nano, loc)
    for _, v in next, { y, mo, d } do
      if type(v) ~= "number" then error("time.date: year, month and day must be numbers", 2) end
    end
    local l = loc_of(loc, "time.date")
    local days = days_from_civil(y, mo, d)
    local secs = days * DAY + (h or 0) * 3600 + (mi or 0) * 60 + (s or 0) - (l and l.offset or 0)
    return at(secs * SECOND + (nano or 0), l)
  end

  function M.add(h, d)
    local st = st_of(h, "t:add")
    local ns, err = to_ns(d, "t:add")
    if ns == nil then error(err, 2) end
    return at(st.ns + ns, st.loc)
  end
  function M.sub(h, other) return duration(ns_of(h, "t:sub") - ns_of(other, "t:sub")) end
  function M.add_date(h, years, months, days)
    local st = st_of(h, "t:add_date")
    local f = fields(st.ns, st.loc)
    local m0 = f.month - 1 + (months or 0)
    local y = f.year + (years or 0) + m0 // 12
    local day0 = days_from_civil(y, m0 % 12 + 1, 1) + f.day - 1 + (days or 0)
    local in_day = (st.ns + f.off * SECOND) % (DAY * SECOND)
    return at(day0 * DAY * SECOND + in_day - f.off * SECOND, st.loc)
  end
  -- Times are int64 nanoseconds since the epoch (years 1678-2262): Go's zero time (year 1) does
  -- not fit, so rounding is relative to the epoch (the same for any step that divides a day), and
  -- only math.mininteger stands for the zero time.
  local ZERO = math.mininteger
  local function step_of(d, what)
    local step, err = to_ns(d, what)
    if step == nil then error(err, 3) end
    return step
  end
  function M.truncate(h, d)
    local st, step = st_of(h, "t:truncate"), step_of(d, "t:truncate")
    if step <= 0 then return h end
    return at(st.ns // step * step, st.loc)
  end
  function M.round(h, d)
    local st, step = st_of(h, "t:round"), step_of(d, "t:round")
    if step <= 0 then return h end
    local r = st.ns % step
    local down = st.ns - r
    return at(r + r < step and down or down + step, st.loc)
  end
  function M.before(h, other) return ns_of(h, "t:before") < ns_of(other, "t:before") end
  function M.after(h, other) return ns_of(h, "t:after") > ns_of(other, "t:after") end
  function M.equal(h, other) return ns_of(h, "t:equal") == ns_of(other, "t:equal") end
  function M.unix(h) return ns_of(h, "t:unix") // SECOND end
  function M.unix_milli(h) return ns_of(h, "t:unix_milli") // 1000000 end
  function M.unix_nano(h) return ns_of(h, "t:unix_nano") end
  function M.format(h, layout)
    if type(layout) ~= "string" then error("t:format: layout must be a string, got " .. describe(layout), 2) end
    local st = st_of(h, "t:format")
    return format(st.ns, st.loc, layout)
  end
  function M.format_rfc3339(h)
    local st = st_of(h, "t:format_rfc3339")
    return format(st.ns, st.loc, LAYOUTS.RFC3339)
  end
  function M.utc(h) return at(ns_of(h, "t:utc"), nil) end
  M.in_local = M.utc
  function M.in_location(h, loc) return at(ns_of(h, "t:in_location"), loc_of(loc, "t:in_location")) end
  function M.location(h)
    local loc = st_of(h, "t:location").loc
    return loc and location_proxy(loc) or UTC
  end
  function M.is_zero(h) return ns_of(h, "t:is_zero") == ZERO end
  local function fields_of(h, what)
    local st = st_of(h, what)
    return fields(st.ns, st.loc)
  end
  function M.date(h)
    local f = fields_of(h, "t:date")
    return f.year, f.month, f.day
  end
  function M.clock(h)
    local f = fields_of(h, "t:clock")
    return f.hour, f.minute, f.second
  end
  local FIELDS = { year = "year", month = "month", day = "day", hour = "hour", minute = "minute",
                   second = "second", nanosecond = "nano", weekday = "weekday", year_day = "yday" }
  for method, field in next, FIELDS do
    M[method] = function(h) return fields_of(h, "t:" .. method)[field] end
  end
  R.time_location = loc_of
end
