-- Data conversion Lua -> JSON text (parsed by JS). Functions, userdata, threads, handles, cycles,
-- NaN and keys other than strings and numbers are refused with the path to the offending value.
--
-- Runs inside the calling process (events.send, process.send, a process's return value), so
-- converting a huge table counts against that process's budget and time slice.
local R = ...
local type, rawget, rawlen, next, pcall, error = type, rawget, rawlen, next, pcall, error
local mtype, huge = math.type, math.huge
local sformat, sgsub, sbyte = string.format, string.gsub, string.byte
local concat = table.concat
local rawmeta = debug.getmetatable

local MAX_DEPTH = 100

local ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t',
              ['\b'] = '\\b', ['\f'] = '\\f' }
local function esc_char(c) return ESC[c] or sformat("\\u%04x", sbyte(c)) end
local function quote(s) return '"' .. sgsub(s, '[%c"\\]', esc_char) .. '"' end

local path_stack, path_depth = {}, 0
local function conversion_error(what, depth)
  local parts = { "data" }
  for i = 1, depth or path_depth do parts[i + 1] = path_stack[i] end
  error({ conversion = concat(parts) .. ": " .. what }, 0)
end

local function number_key(k)
  if mtype(k) == "integer" then return sformat("%d", k) end
  return sformat("%.17g", k)
end

local encode_value
encode_value = function(v, out, n, seen)
  local t = type(v)
  if t == "string" then
    n = n + 1; out[n] = quote(v)
  elseif t == "number" then
    n = n + 1
    if mtype(v) == "integer" then out[n] = sformat("%d", v)
    elseif v ~= v then conversion_error("NaN cannot be converted")
    elseif v == huge then out[n] = "1e999"
    elseif v == -huge then out[n] = "-1e999"
    else out[n] = sformat("%.17g", v) end
  elseif t == "boolean" then
    n = n + 1; out[n] = v and "true" or "false"
  elseif t == "nil" then
    n = n + 1; out[n] = "null"
  elseif t == "table" then
    local mt = rawmeta(v)
    local name = mt and rawget(mt, "__name")
    if type(name) == "string" then conversion_error("a " .. name .. " cannot be converted") end
    if seen[v] then conversion_error("a cyclic table cannot be converted") end
    if path_depth >= MAX_DEPTH then
      conversion_error("data nested deeper than " .. MAX_DEPTH .. " levels cannot be converted")
    end
    seen[v] = true
    local len, count = rawlen(v), 0
    for _ in next, v do count = count + 1 end
    local is_array = count > 0 and count == len
    if is_array then
      for i = 1, len do if rawget(v, i) == nil then is_array = false; break end end
    end
    path_depth = path_depth + 1
    if is_array then
      n = n + 1; out[n] = "["
      for i = 1, len do
        if i > 1 then n = n + 1; out[n] = "," end
        path_stack[path_depth] = "[" .. i .. "]"
        n = encode_value(rawget(v, i), out, n, seen)
      end
      n = n + 1; out[n] = "]"
    else
      n = n + 1; out[n] = "{"
      local first = true
      for k, item in next, v do
        local kt, ks = type(k), nil
        if kt == "string" then ks = k
        elseif kt == "number" then ks = number_key(k)
        else
          conversion_error("a table key of type " .. kt .. " cannot be converted (keys must be strings or numbers)",
            path_depth - 1)
        end
        if not first then n = n + 1; out[n] = "," end
        first = false
        n = n + 1; out[n] = quote(ks) .. ":"
        path_stack[path_depth] = "." .. ks
        n = encode_value(item, out, n, seen)
      end
      n = n + 1; out[n] = "}"
    end
    path_stack[path_depth] = nil
    path_depth = path_depth - 1
    seen[v] = nil
  else
    conversion_error("a " .. t .. " cannot be converted")
  end
  return n
end

-- Returns the JSON text, or nil and the reason. Errors that are not conversion errors (the
-- budget, the time slice, memory) propagate.
function R.encode(v)
  local out = {}
  path_stack, path_depth = {}, 0
  local ok, err = pcall(encode_value, v, out, 0, {})
  if ok then return concat(out) end
  path_depth = 0
  if type(err) == "table" and rawmeta(err) == nil and type(rawget(err, "conversion")) == "string" then
    return nil, err.conversion
  end
  error(err, 0)
end

