import { WorkerBus } from "@threadbus/worker";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Monitor, serveMonitor } from "../src/index.js";
import { CHROMIUM, IN_CI, launchChromium, MISSING_CHROMIUM } from "./browser.js";
import { quiet } from "./support.js";

const TOKEN = "browser-test-token-0123456789";

if (CHROMIUM === null && !IN_CI) console.warn(`skipped: ${MISSING_CHROMIUM}`);

describe("test environment", () => {
  // In CI a missing Chromium must fail the run: the page tests would otherwise pass by skipping.
  it.runIf(IN_CI || CHROMIUM !== null)("has a Chromium binary to run the page tests in", () => {
    expect(CHROMIUM, MISSING_CHROMIUM).not.toBeNull();
  });
});

// Generous: a shared 2-core machine may take seconds to start Chromium or render a page.
describe.skipIf(CHROMIUM === null)("the monitor page in headless Chromium", { timeout: 60_000 }, () => {
  let browser: Browser;
  let bus: WorkerBus;
  let monitor: Monitor;
  let load: ReturnType<typeof setInterval> | undefined;
  const pages: Page[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    bus = await WorkerBus.start({ logger: quiet });
    monitor = await serveMonitor(bus, { token: TOKEN, sampleIntervalMs: 200 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await monitor?.close();
    await bus?.stop();
  });

  afterEach(async () => {
    clearInterval(load);
    load = undefined;
    await Promise.all(pages.splice(0).map((page) => page.close()));
    // A CSP violation or a script error would show here: the page must run clean.
    expect(problems.splice(0)).toEqual([]);
  });

  async function open(token = TOKEN): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    pages.push(page);
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && token === TOKEN) problems.push(`console: ${message.text()}`);
    });
    await page.goto(`${monitor.url}?token=${encodeURIComponent(token)}`);
    return page;
  }

  /** Publishes a steady trickle of registry and process events until the test ends. */
  function publish(): void {
    let n = 0;
    load = setInterval(() => {
      for (let i = 0; i < 20; i++, n++) {
        const kind = ["create", "update", "delete"][n % 3]!;
        bus.send({ system: n % 2 ? "registry" : "process", kind, path: `item/${n}`, data: { n } });
      }
    }, 20);
  }

  const count = async (page: Page, selector: string) =>
    Number(((await page.textContent(selector)) ?? "").replace(/,/g, ""));

  it("loads, draws its charts, and its totals rise while events flow", async () => {
    const sink = await bus.subscribe("**", "", { overflow: "drop-oldest", bufferSize: 16 });
    const page = await open();
    await expect.poll(() => page.textContent("#bus-kind"), { timeout: 15_000 }).toBe("WorkerBus");
    publish();
    await expect.poll(() => count(page, "#sent-total"), { timeout: 15_000 }).toBeGreaterThan(0);
    const first = await count(page, "#sent-total");
    await expect.poll(() => count(page, "#sent-total"), { timeout: 15_000 }).toBeGreaterThan(first);
    await expect.poll(() => count(page, "#delivered-total"), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await page.locator("#rate-chart canvas").count()).toBe(1);
    expect(await page.textContent("#status")).toMatch(/^live/);
    await sink.close();
  });

  it("lists the live subscriptions in its table, and drops a closed one", async () => {
    const a = await bus.subscribe("registry", "create", { bufferSize: 32 });
    const b = await bus.subscribe("process", "**", { overflow: "drop-newest", path: "item/*" });
    const page = await open();
    const ids = () =>
      page.locator("#subs-table tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    await expect.poll(async () => (await ids()).sort(), { timeout: 15_000 }).toEqual([a.id, b.id].sort());
    const row = page.locator(`#subs-table tr[data-id="${b.id}"] td`);
    expect(await row.allTextContents()).toEqual(
      expect.arrayContaining(["process", "**", "item/*", "drop-newest 1024"]),
    );
    await a.close();
    await expect.poll(ids, { timeout: 15_000 }).toEqual([b.id]);
    await b.close();
  });

  it("answers the match box with the ids of the subscriptions that would receive the event", async () => {
    const all = await bus.subscribe("registry", "**");
    const create = await bus.subscribe("registry", "(create|delete)");
    await bus.subscribe("registry", "update");
    const paths = await bus.subscribe("**", "create", { path: "svc/*" });
    const page = await open();
    await page.fill("#match-system", "registry");
    await page.fill("#match-kind", "create");
    await page.fill("#match-path", "svc/1");
    await page.click("#match-form button");
    await expect
      .poll(() => page.getAttribute("#match-result", "data-ids"), { timeout: 15_000 })
      .toBe([all.id, create.id, paths.id].join(" "));
    await page.fill("#match-path", "other/1");
    await page.click("#match-form button");
    await expect
      .poll(() => page.getAttribute("#match-result", "data-ids"), { timeout: 15_000 })
      .toBe([all.id, create.id].join(" "));
    for (const s of (await bus.inspect()).subscriptions) await bus.unsubscribe(s.id);
  });

  it("tails only the events matching its filter", async () => {
    const page = await open();
    publish();
    await page.fill("#tail-system", "registry");
    await page.fill("#tail-kind", "(create|delete)");
    await page.click("#tail-toggle");
    await expect
      .poll(() => page.locator("#tail-list li").count(), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(6);
    const shown = await page
      .locator("#tail-list li")
      .evaluateAll((items) =>
        items.map((li) => `${li.getAttribute("data-system")} ${li.getAttribute("data-kind")}`),
      );
    expect(new Set(shown)).toEqual(new Set(["registry create", "registry delete"]));
    expect(await page.textContent("#tail-list li:first-child")).toContain("(data hidden)");
    await page.click("#tail-toggle");
  });

  it("answers a wrong token with 401", async () => {
    const page = await browser.newPage();
    pages.push(page);
    const response = await page.goto(`${monitor.url}?token=wrong-token`);
    expect(response?.status()).toBe(401);
    const bare = await page.goto(`${monitor.url}varz`);
    expect(bare?.status()).toBe(401);
  });
});
