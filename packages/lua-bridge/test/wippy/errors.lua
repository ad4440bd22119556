-- Structured errors: nil, err with err:kind() and err:message(); wrong types raise.
local events = require("events")

local function main()
  local sub, err = events.subscribe("")
  assert(sub == nil and err:kind() == errors.INVALID, "empty system")
  assert(type(err:message()) == "string" and tostring(err) == err:message())
  assert(errors.is(err, errors.INVALID) and not errors.is(err, errors.NOT_FOUND))

  for _, args in ipairs({ { "", "k", "/p" }, { "s", "", "/p" }, { "s", "k", "" } }) do
    local ok, e = events.send(args[1], args[2], args[3])
    assert(ok == nil and e:kind() == errors.INVALID, "empty system, kind or path")
  end
  assert(not pcall(events.subscribe, 42), "a number is not a system")
  assert(not pcall(events.send, "s", "k", nil), "nil is not a path")

  local made = errors.new({ message = "user not found", kind = errors.NOT_FOUND, details = { id = 7 } })
  assert(made:kind() == "NOT_FOUND" and made:details().id == 7 and made:retryable() == nil)
  local wrapped = errors.wrap(made, "loading users")
  assert(wrapped:kind() == errors.NOT_FOUND and wrapped:message() == "loading users: user not found")
  assert(errors.new("plain"):kind() == errors.UNKNOWN)
  local caught = select(2, pcall(error, made))
  assert(caught == made, "an error value survives error()/pcall")
  for _, kind in ipairs({ "ALREADY_EXISTS", "PERMISSION_DENIED", "UNAVAILABLE", "INTERNAL", "CANCELED",
                          "CONFLICT", "TIMEOUT", "RATE_LIMITED" }) do
    assert(errors[kind] == kind, kind)
  end
  return true
end

return { main = main }
