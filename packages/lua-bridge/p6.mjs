import { Bus } from "@threadbus/core";
import { LuaHost } from "./dist/index.js";

const bus = new Bus();
const host = new LuaHost({ bus, queueOverflow: "block" });
await host.ready;
const p = host.spawn(
  `local sub = assert(events.subscribe("a")) for i = 1, 3000 do sub:receive() end return 1`,
);
await host.settled();
console.log("settled");
for (let i = 0; i < 3000; i++) {
  bus.send({ system: "a", kind: "k", path: "" });
  if (i % 1024 === 1023) {
    console.log("flush", i);
    await bus.flush();
  }
}
console.log("sent");
console.log(await p.exited);
await host.close();
await bus.stop();
