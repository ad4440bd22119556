/**
 * The Lua registrar: a process on the bus that answers "registry register" requests. A name is
 * registered once; asking again is refused with an error the JS Awaiter reports.
 */
export const REGISTRAR = `
local requests = assert(events.subscribe("registry", "register"))
local owners = {}
local answered = 0
while true do
  local request = requests:receive()
  local name = request.data and request.data.name
  if type(name) ~= "string" or name == "" then
    events.send("registry", "register.rejected", request.path, { error = "a service needs a name" })
  elseif owners[name] then
    events.send("registry", "register.rejected", request.path,
      { error = name .. " is already registered by " .. owners[name] })
  else
    owners[name] = request.path
    events.send("registry", "register.accepted", request.path, { name = name })
  end
  answered = answered + 1
  if answered % 50 == 0 then print("answered " .. answered .. " registration requests") end
end
`;
