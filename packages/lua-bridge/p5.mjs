import { Bus } from "@threadbus/core";
import { LuaHost } from "./dist/index.js";

const bus = new Bus();
const host = new LuaHost({ bus });
await host.ready;
const p = host.spawn(`time.sleep(500) return 1`);
console.log(await p.exited);
await host.close();
await bus.stop();
