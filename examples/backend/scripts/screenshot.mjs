// Takes docs/monitor.png (shown in the READMEs): runs the demo with --forever, opens its monitor
// in headless Chromium, starts a live tail and asks the match box, waits for the charts to fill,
// then stops the demo. `pnpm build && pnpm --filter @threadbus/example-backend screenshot`
// (CHROMIUM=/path/to/chromium for another browser binary).
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const out = fileURLToPath(new URL("../../../docs/monitor.png", import.meta.url));
const demo = spawn(
  process.execPath,
  [fileURLToPath(new URL("../dist/main.js", import.meta.url)), "--forever"],
  {
    stdio: ["ignore", "pipe", "inherit"],
  },
);
const url = await new Promise((resolve, reject) => {
  let text = "";
  demo.stdout.on("data", (chunk) => {
    text += chunk;
    const found = /monitor: (http:\/\/\S+)/.exec(text);
    if (found) resolve(found[1]);
  });
  demo.once("exit", () =>
    reject(new Error(`the demo exited before printing its monitor's address:\n${text}`)),
  );
});
demo.stdout.resume();

// launch() gives the browser a fresh temporary profile (user-data-dir) of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
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
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.fill("#tail-system", "registry");
  await page.fill("#tail-kind", "(create|delete)");
  await page.click("#tail-toggle");
  await page.fill("#match-system", "registry");
  await page.fill("#match-kind", "entry.update");
  await page.click("#match-form button");
  await page.waitForTimeout(40_000);
  await page.screenshot({ path: out });
  // Where pngquant is installed (Debian: apt-get install pngquant), shrink it ~4x for the repository.
  spawnSync("pngquant", ["--quality", "70-90", "--speed", "1", "--force", "--output", out, out]);
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  demo.kill("SIGINT");
  await once(demo, "exit");
}
