import { Bus } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { TokenCheck } from "../src/auth.js";
import { getJson, quiet, statusOf, useMonitors } from "./support.js";

const TOKEN = "s3cret-token-0123456789";

describe("monitor security", () => {
  const use = useMonitors();

  it("sends a Content-Security-Policy without inline scripts, and nosniff, on every answer", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus);
    for (const path of ["", "app.js", "uplot.js", "varz", "subsz?sort=bad", "nope"]) {
      const response = await fetch(`${monitor.url}${path}`);
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toContain("unsafe-inline");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const html = await (await fetch(monitor.url)).text();
    // Every script is a file: no inline <script> body and no inline event handler.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it("serves uPlot from the package itself, not from a CDN", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus);
    const html = await (await fetch(monitor.url)).text();
    expect(html).not.toMatch(/https?:\/\//);
    const uplot = await fetch(`${monitor.url}uplot.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await uplot.text()).toContain("uPlot");
  });

  it("without a token, answers only requests addressed to a loopback name (no DNS rebinding)", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus);
    const port = new URL(monitor.url).port;
    expect(await statusOf(`${monitor.url}varz`, { host: `127.0.0.1:${port}` })).toBe(200);
    expect(await statusOf(`${monitor.url}varz`, { host: `localhost:${port}` })).toBe(200);
    expect(await statusOf(`${monitor.url}varz`, { host: `attacker.example:${port}` })).toBe(403);
  });

  it("with a token, answers 401 to a missing or wrong token and 200 to the right one, however it comes", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus, { token: TOKEN });
    const attempts: Array<RequestInit | undefined> = [
      undefined,
      { headers: { authorization: "Bearer wrong" } },
      { headers: { cookie: "threadbus_monitor=x" } },
    ];
    for (const init of attempts) {
      const { status, body, headers } = await getJson<{ error: string }>(`${monitor.url}varz`, init);
      expect(status).toBe(401);
      expect(body.error).toBe("a valid token is required");
      expect(headers.get("www-authenticate")).toContain("Bearer");
    }
    expect((await fetch(`${monitor.url}varz?token=${TOKEN}x`)).status).toBe(401);
    expect(
      (await fetch(`${monitor.url}varz`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
    const opened = await fetch(`${monitor.url}?token=${TOKEN}`);
    expect(opened.status).toBe(200);
    const cookie = opened.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^threadbus_monitor=.+; HttpOnly; SameSite=Strict; Path=\/$/);
    const withCookie = await fetch(`${monitor.url}subsz`, { headers: { cookie: cookie.split(";")[0]! } });
    expect(withCookie.status).toBe(200);
  });

  it("compares tokens by their SHA-256 digests, so any length compares in constant time", () => {
    const check = new TokenCheck(TOKEN);
    expect(check.matches(TOKEN)).toBe(true);
    for (const other of [
      null,
      "",
      "s",
      TOKEN.slice(0, -1),
      `${TOKEN}x`,
      TOKEN.toUpperCase(),
      "x".repeat(10_000),
    ])
      expect(check.matches(other)).toBe(false);
  });

  it("binds a non-loopback host when a token is given", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus, { host: "0.0.0.0", token: TOKEN });
    expect(monitor.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/);
    const port = new URL(monitor.url).port;
    const response = await fetch(`http://127.0.0.1:${port}/varz`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
  });
});
