#!/usr/bin/env node
import { Bus } from "@threadbus/core";
import { LuaHost } from "./host.js";

const USAGE = `usage: threadbus-lua <script.lua>

Runs a Lua script as a process on a fresh in-thread bus, next to a small demo publisher that sends
a few "registry" events (kind "create", paths users/1..users/3) once the script is running.
Prints what the script prints and exits when it exits (code 1 if it failed).`;

const DEMO_EVENTS = 3;

async function main(argv: string[]): Promise<number> {
  const file = argv[0];
  if (file === undefined || file === "-h" || file === "--help") {
    console.log(USAGE);
    return file === undefined ? 2 : 0;
  }
  const bus = new Bus();
  const host = new LuaHost({ bus, print: (line) => console.log(line) });
  try {
    const proc = await host.spawnFile(file);
    // Publish once the script has subscribed and is waiting (or has already finished).
    void host.settled().then(() => {
      for (let i = 1; i <= DEMO_EVENTS; i++) {
        if (bus.closed) return;
        bus.send({
          system: "registry",
          kind: "create",
          path: `users/${i}`,
          data: { name: `user ${i}`, n: i },
        });
      }
    });
    const result = await proc.exited;
    if (result !== undefined) console.log(`[${proc.name}] returned ${JSON.stringify(result)}`);
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    const traceback = (error as { luaTraceback?: string }).luaTraceback;
    if (traceback) console.error(traceback);
    return 1;
  } finally {
    await host.close();
    await bus.stop();
  }
}

process.exitCode = await main(process.argv.slice(2));
