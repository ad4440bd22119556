// Takes docs/monitor.png: a WorkerBus under a steady load, the monitor page open in headless
// Chromium with the live tail streaming. `pnpm --filter @threadbus/monitor screenshot`
// (CHROMIUM=/path/to/chromium to use another browser binary).
import { fileURLToPath } from "node:url";
import { WorkerBus } from "@threadbus/worker";
import { chromium } from "playwright-core";
import { serveMonitor } from "../dist/index.js";

const out = fileURLToPath(new URL("../docs/monitor.png", import.meta.url));
const bus = await WorkerBus.start();
const subscriptions = [
  await bus.subscribe("registry", "**", { bufferSize: 4096 }),
  await bus.subscribe("registry", "(create|delete)"),
  await bus.subscribe("process", "exit", { path: "worker-*" }),
  await bus.subscribe("**", "", { bufferSize: 256, overflow: "drop-oldest" }),
];
// A slow reader: its buffer fills, so the page marks it as the slowest.
const slow = await bus.subscribe("process", "**", { bufferSize: 512, overflow: "drop-newest" });
const readers = subscriptions.map(async (s) => {
  for await (const _ of s);
});
const slowReader = (async () => {
  for await (const _ of slow) await new Promise((r) => setTimeout(r, 20));
})();
const kinds = [
  ["registry", "create"],
  ["registry", "entry.update"],
  ["registry", "delete"],
  ["process", "start"],
  ["process", "exit"],
];
let n = 0;
const load = setInterval(() => {
  const burst = 40 + Math.round(30 * Math.sin(n / 400));
  for (let i = 0; i < burst; i++) {
    const [system, kind] = kinds[n % kinds.length];
    bus.send({ system, kind, path: `worker-${n % 7}/${n}`, data: { n, user: "alice" } });
    n++;
  }
}, 10);

const monitor = await serveMonitor(bus, { sampleIntervalMs: 250 });
// launch() gives the browser a fresh temporary profile (user-data-dir) of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(monitor.url);
  await page.fill("#tail-kind", "(create|exit)");
  await page.click("#tail-toggle");
  await page.fill("#match-system", "registry");
  await page.fill("#match-kind", "create");
  await page.click("#match-form button");
  await page.waitForTimeout(12_000);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  clearInterval(load);
  await browser.close();
  await monitor.close();
  await bus.stop();
  await Promise.all(readers);
  await slowReader;
}
