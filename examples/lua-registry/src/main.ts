import { Awaiter, Bus } from "@threadbus/core";
import { LuaHost } from "@threadbus/lua";

/**
 * A Lua process waits for "registry" events and answers each with an "accept" (or a "reject" for
 * a bad request); JS clients use an Awaiter: prepare (subscribe first), send, wait for the answer.
 */
const REGISTRAR = `
local requests = assert(events.subscribe("registry", "register"))
local seen = {}
while true do
  local request = requests:receive()
  local name = request.data and request.data.name
  if type(name) ~= "string" or name == "" then
    events.send("registry", "reject", request.path, { error = "a service needs a name" })
  elseif seen[name] then
    events.send("registry", "reject", request.path, { error = name .. " is already registered" })
  else
    seen[name] = request.path
    print("registered " .. name .. " at " .. request.path)
    events.send("registry", "accept", request.path, { name = name, registered = true })
  end
end
`;

const bus = new Bus();
const host = new LuaHost({ bus, print: (line, proc) => console.log(`[lua ${proc.name}] ${line}`) });
const registrar = host.spawn(REGISTRAR, { name: "registrar" });
const answers = new Awaiter(bus, "registry", "(accept|reject)");

async function register(path: string, name: string | undefined): Promise<void> {
  const waiter = await answers.prepare(path, { timeoutMs: 10_000 });
  bus.send({ system: "registry", kind: "register", path, data: name === undefined ? {} : { name } });
  const answer = await waiter.wait();
  const outcome = answer.accepted ? "accepted" : `refused: ${answer.error?.message}`;
  console.log(`[js] ${path} (${name ?? "no name"}) ${outcome}`);
}

let failed = false;
try {
  await host.ready;
  await host.settled(); // the registrar has subscribed
  await register("svc/1", "billing");
  await register("svc/2", "search");
  await register("svc/3", "billing");
  await register("svc/4", undefined);
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await answers.close();
  await host.close();
  await registrar.exited.catch((error: { code?: string }) => {
    if (error.code !== "LUA_HOST_CLOSED") throw error;
  });
  await bus.stop();
}
process.exitCode = failed ? 1 : 0;
