import { Bus } from "@threadbus/core";
import { LuaHost } from "./dist/index.js";

const bus = new Bus();
const host = new LuaHost({ bus, print: (l) => console.log(l), timeSliceMs: 20000, watchdogMs: 40000 });
await host.ready;
const proc = host.spawn(
  `
  local c0, t0 = os.clock(), time.now()
  time.sleep(300)
  local c1, t1 = os.clock(), time.now()
  local x = 0 for i = 1, 3e6 do x = x + i end
  local c2, t2 = os.clock(), time.now()
  print(string.format("sleep: clock %.1f ms wall %.1f ms; loop: clock %.1f ms wall %.1f ms", (c1-c0)*1000, t1-t0, (c2-c1)*1000, t2-t1))
`,
  {},
);
const t = performance.now();
while (performance.now() - t < 200) {} // busy main thread
await proc.exited.catch((e) => console.log(e.message));
await host.close();
await bus.stop();
