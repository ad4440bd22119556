import { Bus } from "@threadbus/core";
import { LuaHost } from "./dist/index.js";

const bus = new Bus();
const host = new LuaHost({ bus, queueOverflow: "block", timeSliceMs: 20000, watchdogMs: 40000 });
await host.ready;
const count = 200000;
const proc = host.spawn(
  `local sub = assert(events.subscribe("orders", "created")) local n = 0 while n < ${count} do local e = sub:receive() n = n + 1 end return n`,
);
await host.settled();
let i = 0;
const iv = setInterval(() => {}, 500);
for (; i < count; i++) {
  bus.send({ system: "orders", kind: "created", path: "o/1", data: { seq: i } });
  if (i % 1024 === 1023) await bus.flush();
}
console.log("published");
console.log(await proc.exited);
clearInterval(iv);
await host.close();
await bus.stop();
