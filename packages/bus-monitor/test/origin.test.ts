import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Bus } from "@threadbus/core";
import { WorkerBus } from "@threadbus/worker";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Monitor, serveMonitor } from "../src/index.js";
import { CHROMIUM, launchChromium } from "./browser.js";
import { quiet, statusOf, until, useMonitors } from "./support.js";

describe("monitor same-origin check", () => {
  const use = useMonitors();

  it("answers 403 to a request whose Origin or Sec-Fetch-Site says another origin, and opens nothing", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus);
    const own = monitor.url.slice(0, -1);
    const port = Number(new URL(monitor.url).port);
    const foreign: Array<Record<string, string>> = [
      { origin: `http://127.0.0.1:${port + 1}` },
      { origin: `http://localhost:${port}` },
      { origin: `https://127.0.0.1:${port}` },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { origin: own, "sec-fetch-site": "same-site" },
    ];
    for (const headers of foreign)
      for (const path of ["tail", "varz", "", "app.js"])
        expect(await statusOf(`${monitor.url}${path}`, headers), `${path} ${JSON.stringify(headers)}`).toBe(
          403,
        );
    expect(bus.stats().subscriptions).toBe(0);
    expect(monitor.stats().refused.crossOrigin).toBe(foreign.length * 4);
    const ownPage: Array<Record<string, string>> = [
      {},
      { origin: own },
      { origin: own, "sec-fetch-site": "same-origin" },
      { "sec-fetch-site": "none" },
    ];
    for (const headers of ownPage)
      expect(await statusOf(`${monitor.url}varz`, headers), JSON.stringify(headers)).toBe(200);
  });
});

/**
 * The attack: a page served from another port of 127.0.0.1 cannot read the monitor (CORS), but its
 * no-cors fetches of /tail used to take every tail slot, so the real user's own tail got 503.
 */
describe.skipIf(CHROMIUM === null)(
  "a page on another origin, in headless Chromium",
  { timeout: 60_000 },
  () => {
    let browser: Browser;
    let bus: WorkerBus;
    let monitor: Monitor;
    let elsewhere: Server;

    beforeAll(async () => {
      browser = await launchChromium();
      bus = await WorkerBus.start({ logger: quiet });
      monitor = await serveMonitor(bus, { maxTails: 4 });
      elsewhere = createServer((_request, response) => {
        response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        response.end("<!doctype html><title>elsewhere</title><p>another origin</p>");
      });
      await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await monitor?.close();
      await bus?.stop();
      await new Promise((resolve) => elsewhere?.close(resolve));
    });

    it("cannot hold the tail slots with no-cors fetches: they get 403 and the user's own tail streams", async () => {
      const attacker = await (await browser.newContext()).newPage();
      await attacker.goto(`http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`);
      // 8 lanes, each fetching /tail again whenever its last fetch settles, and holding every response.
      await attacker.evaluate((tail) => {
        const w = globalThis as unknown as { fetches: number; held: unknown[] };
        w.fetches = 0;
        // Kept referenced: an opaque response that is collected would have its stream cancelled.
        w.held = [];
        for (let lane = 0; lane < 8; lane++)
          void (async () => {
            for (;;) {
              w.held.push(await fetch(tail, { mode: "no-cors" }).catch(() => undefined));
              w.fetches++;
            }
          })();
      }, `${monitor.url}tail`);
      await until(
        async () =>
          (await attacker.evaluate(() => (globalThis as unknown as { fetches: number }).fetches)) >= 16,
        20_000,
      );
      expect(monitor.stats().refused.crossOrigin).toBeGreaterThanOrEqual(16);
      expect(monitor.stats().tails).toBe(0);

      const user = await (await browser.newContext()).newPage();
      const problems: string[] = [];
      user.on("pageerror", (error) => problems.push(error.message));
      await user.goto(monitor.url);
      // The user's own tail, ten times over, while the lanes keep trying.
      for (let i = 0; i < 10; i++) {
        const first = await user.evaluate(async () => {
          const response = await fetch("/tail");
          if (response.status !== 200) return `status ${response.status}`;
          const reader = response.body!.getReader();
          const { value } = await reader.read();
          await reader.cancel();
          return new TextDecoder().decode(value);
        });
        expect(first).toMatch(/^event: hello\n/);
        await until(() => monitor.stats().tails === 0);
      }
      expect(problems).toEqual([]);
      await attacker.context().close();
      await user.context().close();
    });
  },
);
