-- Structured errors as Wippy's docs describe them (en/lua/core/errors.md): failures return
-- nil, err where err:kind() is one of the errors.* constants and err:message() the text.
--
-- tostring(err) is the message alone, and an error concatenates as its message, so that code
-- that printed or concatenated the string errors of earlier threadbus versions still works.
local R = ...
local type, error, rawget, tostring = type, error, rawget, tostring
local rawmeta = debug.getmetatable
local describe = R.describe

local KINDS = {
  "NOT_FOUND", "ALREADY_EXISTS", "INVALID", "PERMISSION_DENIED", "UNAVAILABLE", "INTERNAL",
  "CANCELED", "CONFLICT", "TIMEOUT", "RATE_LIMITED", "UNKNOWN",
}
-- Kinds a caller may retry without changing anything (the docs' "Typically Retryable").
local RETRYABLE = { TIMEOUT = true, UNAVAILABLE = true, RATE_LIMITED = true }

local Methods = {}
local state_of
local function text_of(v)
  local st = state_of(v)
  if st then return st.message end
  local t = type(v)
  if t == "string" or t == "number" then return v end
  error("attempt to concatenate a " .. t .. " value", 2)
end
local proxy
proxy, state_of = R.handle_kind("error", Methods, {
  __tostring = function(h) return state_of(h).message end,
  __concat = function(a, b) return text_of(a) .. text_of(b) end,
})

local function new_error(kind, message, retryable, details, stack)
  return proxy({ kind = kind, message = message, retryable = retryable, details = details, stack = stack })
end

-- What a runtime function returns on failure: nil and an error of `kind`.
function R.fail(kind, message)
  return nil, new_error(kind, message, RETRYABLE[kind] or false, nil, nil)
end
R.new_error = new_error
R.error_state = state_of

function Methods.kind(h) return state_of(h).kind end
function Methods.message(h) return state_of(h).message end
function Methods.retryable(h) return state_of(h).retryable end
function Methods.details(h) return state_of(h).details end
function Methods.stack(h) return state_of(h).stack or "" end

local errors = {}
for i = 1, #KINDS do errors[KINDS[i]] = KINDS[i] end
local VALID = {}
for i = 1, #KINDS do VALID[KINDS[i]] = true end

function errors.new(spec)
  if type(spec) == "string" then return new_error("UNKNOWN", spec, nil, nil, nil) end
  if type(spec) ~= "table" or rawmeta(spec) ~= nil then
    error("errors.new: expected a message string or a table with a message, got " .. describe(spec), 2)
  end
  local message, kind = rawget(spec, "message"), rawget(spec, "kind")
  if type(message) ~= "string" then error("errors.new: message must be a string, got " .. describe(message), 2) end
  if kind == nil then kind = "UNKNOWN" end
  if not VALID[kind] then error("errors.new: kind must be one of errors.*, got " .. describe(kind), 2) end
  local retryable = rawget(spec, "retryable")
  if retryable ~= nil and type(retryable) ~= "boolean" then
    error("errors.new: retryable must be a boolean, got " .. describe(retryable), 2)
  end
  return new_error(kind, message, retryable, rawget(spec, "details"), nil)
end

-- Keeps kind, retryable and details; the message gains the context in front.
function errors.wrap(err, message)
  if type(message) ~= "string" then error("errors.wrap: message must be a string, got " .. describe(message), 2) end
  local st = state_of(err)
  if not st then return new_error("UNKNOWN", message .. ": " .. tostring(err), nil, nil, nil) end
  return new_error(st.kind, message .. ": " .. st.message, st.retryable, st.details, st.stack)
end

function errors.is(err, kind)
  local st = state_of(err)
  return st ~= nil and st.kind == kind
end

-- threadbus keeps no structured call stack: the traceback is in the process's exit error.
function errors.call_stack(_) return nil end

R.errors_module = errors
