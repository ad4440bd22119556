-- time.parse(layout, value, location?): Go's reference layouts read back (the tokens of
-- timefmt.lua), into a Time; nil and an INVALID error when the value does not fit the layout.
local R = ...
local type, error, tonumber = type, error, tonumber
local ssub, sfind, slower = string.sub, string.find, string.lower
local describe, fail = R.describe, R.fail
local days_from_civil, TOKENS, MONTHS, DAYS = R.days_from_civil, R.time_tokens, R.time_months, R.time_days

local SECOND, DAY = 1000000000, 86400

-- A name among `names` (full or first three letters) at position i: its index and the end.
local function name_at(value, i, names, short)
  for k = 1, #names do
    local name = short and ssub(names[k], 1, 3) or names[k]
    if slower(ssub(value, i, i + #name - 1)) == slower(name) then return k, i + #name end
  end
  return nil
end

local function digits(value, i, min, max)
  local _, e = sfind(value, "^%d+", i)
  if not e or e - i + 1 < min then return nil end
  if e - i + 1 > max then e = i + max - 1 end
  return tonumber(ssub(value, i, e)), e + 1
end

local function offset_at(value, i, colon, z)
  if z and ssub(value, i, i) == "Z" then return 0, i + 1 end
  local pattern = colon and "^([+-])(%d%d):(%d%d)" or "^([+-])(%d%d)(%d%d)"
  local _, e, sign, hh, mm = sfind(value, pattern, i)
  if not e then return nil end
  local off = tonumber(hh) * 3600 + tonumber(mm) * 60
  return sign == "-" and -off or off, e + 1
end

-- Each token reads its field into t and returns the next position, or nil.
local READ = {
  January = function(v, i, t) local m, e = name_at(v, i, MONTHS, false); t.month = m; return m and e end,
  Jan = function(v, i, t) local m, e = name_at(v, i, MONTHS, true); t.month = m; return m and e end,
  Monday = function(v, i) local d, e = name_at(v, i, DAYS, false); return d and e end,
  Mon = function(v, i) local d, e = name_at(v, i, DAYS, true); return d and e end,
  ["2006"] = function(v, i, t) local n, e = digits(v, i, 4, 4); t.year = n; return e end,
  ["06"] = function(v, i, t)
    local n, e = digits(v, i, 2, 2)
    if n then t.year = n >= 69 and 1900 + n or 2000 + n end
    return e
  end,
  ["01"] = function(v, i, t) local n, e = digits(v, i, 2, 2); t.month = n; return e end,
  ["1"] = function(v, i, t) local n, e = digits(v, i, 1, 2); t.month = n; return e end,
  ["02"] = function(v, i, t) local n, e = digits(v, i, 2, 2); t.day = n; return e end,
  ["_2"] = function(v, i, t)
    if ssub(v, i, i) == " " then i = i + 1 end
    local n, e = digits(v, i, 1, 2); t.day = n; return e
  end,
  ["2"] = function(v, i, t) local n, e = digits(v, i, 1, 2); t.day = n; return e end,
  ["002"] = function(v, i, t) local n, e = digits(v, i, 3, 3); t.yday = n; return e end,
  ["15"] = function(v, i, t) local n, e = digits(v, i, 2, 2); t.hour = n; return e end,
  ["03"] = function(v, i, t) local n, e = digits(v, i, 2, 2); t.hour12 = n; return e end,
  ["3"] = function(v, i, t) local n, e = digits(v, i, 1, 2); t.hour12 = n; return e end,
  ["04"] = function(v, i, t) local n, e = digits(v, i, 2, 2); t.minute = n; return e end,
  ["4"] = function(v, i, t) local n, e = digits(v, i, 1, 2); t.minute = n; return e end,
  ["05"] = function(v, i, t) local n, e = digits(v, i, 2, 2); t.second = n; return e end,
  ["5"] = function(v, i, t) local n, e = digits(v, i, 1, 2); t.second = n; return e end,
  PM = function(v, i, t)
    local m = ssub(v, i, i + 1)
    if m ~= "AM" and m ~= "PM" then return nil end
    t.pm = m == "PM"; return i + 2
  end,
  pm = function(v, i, t)
    local m = ssub(v, i, i + 1)
    if m ~= "am" and m ~= "pm" then return nil end
    t.pm = m == "pm"; return i + 2
  end,
  MST = function(v, i, t)
    local _, e = sfind(v, "^%u%u%u?%u?%u?", i)
    if not e then return nil end
    t.zone = ssub(v, i, e); return e + 1
  end,
  ["Z07:00"] = function(v, i, t) local off, e = offset_at(v, i, true, true); t.off = off; return e end,
  ["-07:00"] = function(v, i, t) local off, e = offset_at(v, i, true, false); t.off = off; return e end,
  ["Z0700"] = function(v, i, t) local off, e = offset_at(v, i, false, true); t.off = off; return e end,
  ["-0700"] = function(v, i, t) local off, e = offset_at(v, i, false, false); t.off = off; return e end,
}

local function read(layout, value)
  local t, i, j, len = {}, 1, 1, #layout
  while j <= len do
    -- ".000" or ".999" in the layout: a fraction of a second (optional for ".999").
    local _, e, digits_in_layout = sfind(layout, "^[.,](0+)", j)
    if not e then _, e, digits_in_layout = sfind(layout, "^[.,](9+)", j) end
    if e and sfind(layout, "^%d", e + 1) then e = nil end -- as Go: ".01" is no fraction
    if e then
      local _, fe, frac = sfind(value, "^[.,](%d+)", i)
      if fe then
        t.nano = tonumber(ssub(frac .. "000000000", 1, 9)); i = fe + 1
      elseif ssub(digits_in_layout, 1, 1) == "0" then
        return nil
      end
      j = e + 1
    else
      local matched = false
      for k = 1, #TOKENS do
        local token = TOKENS[k][1]
        if ssub(layout, j, j + #token - 1) == token then
          i = READ[token](value, i, t)
          if not i then return nil end
          j = j + #token
          matched = true
          break
        end
      end
      if not matched then
        if ssub(layout, j, j) ~= ssub(value, i, i) then return nil end
        i, j = i + 1, j + 1
      end
    end
  end
  if i <= #value then return nil end
  return t
end

function R.time_parse(time, at)
  function time.parse(layout, value, loc)
    if type(layout) ~= "string" then error("time.parse: layout must be a string, got " .. describe(layout), 2) end
    if type(value) ~= "string" then error("time.parse: value must be a string, got " .. describe(value), 2) end
    local default = R.time_location(loc, "time.parse")
    local t = read(layout, value)
    if not t then
      return fail("INVALID", "time.parse: " .. describe(value) .. " does not match the layout " .. describe(layout))
    end
    local hour = t.hour or 0
    if t.hour12 then hour = t.hour12 % 12 + (t.pm and 12 or 0) end
    -- Go's default year is 0, outside the int64 nanoseconds a Time holds: 1970 instead.
    local year = t.year or 1970
    local days
    if t.yday and not t.month then days = days_from_civil(year, 1, 1) + t.yday - 1
    else days = days_from_civil(year, t.month or 1, t.day or 1) end
    local off, zone = t.off, nil
    if off == nil and t.zone and t.zone ~= "UTC" and t.zone ~= "GMT" then zone = t.zone end
    local loc = default
    if off ~= nil then
      loc = off ~= 0 and { name = "", offset = off } or nil
    elseif zone then
      loc = { name = zone, offset = 0 } -- an abbreviation without a database: Go's zero offset
    end
    off = loc and loc.offset or 0
    local ns = ((days * DAY) + hour * 3600 + (t.minute or 0) * 60 + (t.second or 0) - off) * SECOND + (t.nano or 0)
    return at(ns, loc)
  end
end
