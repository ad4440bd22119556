import { readdirSync, readFileSync } from "node:fs";
import { Bus } from "@threadbus/core";
import { LuaHost } from "./dist/index.js";

const TICK = 100; // clock ticks per second (getconf CLK_TCK)
function threads() {
  const out = new Map();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      out.set(tid, { name, ms: ((Number(f[11]) + Number(f[12])) * 1000) / TICK });
    } catch {}
  }
  return out;
}
const count = Number(process.argv[2] ?? 200000);
const withData = process.argv[3] !== "nodata";
const bus = new Bus();
const host = new LuaHost({ bus, queueOverflow: "block" });
await host.ready;
async function publish(n, make) {
  for (let i = 0; i < n; i++) {
    bus.send(make(i));
    if (i % 1024 === 1023) await bus.flush();
  }
  await bus.flush();
}
for (let r = 0; r < 3; r++) {
  const proc = host.spawn(
    `local sub = assert(events.subscribe("orders", "created")) local n = 0 while n < ${count} do local e = sub:receive() ${withData ? 'if e.data.seq ~= n then error("order") end' : ""} n = n + 1 end return n`,
  );
  await host.settled();
  const before = threads();
  const t0 = performance.now();
  const iv = setInterval(
    () => console.log("progress", JSON.stringify(host.stats().perProcess), JSON.stringify(bus.stats())),
    1000,
  );
  await publish(count, (seq) => ({ system: "orders", kind: "created", path: "o/1", data: { seq } }));
  console.log("published");
  await proc.exited;
  clearInterval(iv);
  const wall = performance.now() - t0;
  const after = threads();
  const used = [...after]
    .map(([tid, t]) => [tid, t.name, t.ms - (before.get(tid)?.ms ?? 0)])
    .filter((x) => x[2] > 20)
    .sort((a, b) => b[2] - a[2]);
  const main = used.find((u) => u[0] === String(process.pid));
  const engine = used.find((u) => u[0] !== String(process.pid));
  console.log(
    `wall ${(((count / wall) * 1000) / 1000).toFixed(0)}k/s | main ${main?.[2]}ms (${((main?.[2] / count) * 1000).toFixed(2)}us/ev) | top other ${engine?.[1]} ${engine?.[2]}ms (${((engine?.[2] / count) * 1000).toFixed(2)}us/ev) -> bound ${(count / Math.max(main?.[2], engine?.[2])).toFixed(0)}k/s |`,
    used
      .slice(0, 5)
      .map((u) => `${u[1]}:${u[2]}`)
      .join(" "),
  );
}
await host.close();
await bus.stop();
