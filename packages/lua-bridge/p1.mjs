import { Bus } from "@threadbus/core";
import { LuaHost } from "./dist/index.js";

const count = 200_000;
async function publish(bus, n, make) {
  for (let i = 0; i < n; i++) {
    bus.send(make(i));
    if (i % 1024 === 1023) await bus.flush();
  }
  await bus.flush();
}
const bus = new Bus();
const host = new LuaHost({ bus, queueOverflow: "block" });
await host.ready;
for (let r = 0; r < 4; r++) {
  const proc = host.spawn(
    `local sub = assert(events.subscribe("orders", "created")) local n = 0 while n < ${count} do local e = sub:receive() if e.data.seq ~= n then error("order") end n = n + 1 end return n`,
  );
  console.log("spawned");
  await host.settled();
  console.log("settled", process.getActiveResourcesInfo());
  setTimeout(() => console.log("later", process.getActiveResourcesInfo()), 100).unref();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await publish(bus, count, (seq) => ({ system: "orders", kind: "created", path: "o/1", data: { seq } }));
  const t1 = performance.now();
  await proc.exited;
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${(count / ((t2 - t0) / 1000) / 1000).toFixed(0)}k/s publish ${(t1 - t0).toFixed(0)}ms total ${(t2 - t0).toFixed(0)}ms processCPU ${((cpu.user + cpu.system) / 1000).toFixed(0)}ms`,
  );
}
await host.close();
await bus.stop();
