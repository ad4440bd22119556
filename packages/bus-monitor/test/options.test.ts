import { Bus } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { isLoopback, MonitorTokenRequiredError, serveMonitor } from "../src/index.js";
import { quiet } from "./support.js";

async function refusal(options: unknown): Promise<{ code?: string; option?: string; message: string }> {
  const bus = new Bus({ logger: quiet });
  try {
    const monitor = await serveMonitor(bus, options as never);
    await monitor.close();
  } catch (error) {
    return error as { code?: string; option?: string; message: string };
  } finally {
    await bus.stop();
  }
  throw new Error(`serveMonitor accepted ${JSON.stringify(options)}`);
}

describe("serveMonitor options", () => {
  it("rejects each bad option with INVALID_OPTIONS naming it", async () => {
    for (const [options, option] of [
      [{ port: -1 }, "options.port"],
      [{ port: 70_000 }, "options.port"],
      [{ port: 1.5 }, "options.port"],
      [{ port: "80" }, "options.port"],
      [{ host: "" }, "options.host"],
      [{ token: "short" }, "options.token"],
      [{ showData: "yes" }, "options.showData"],
      [{ sampleIntervalMs: 10 }, "options.sampleIntervalMs"],
      [{ historySeconds: 1 }, "options.historySeconds"],
      [{ maxTails: 100 }, "options.maxTails"],
      [{ prot: 8080 }, "options.prot"],
    ] as const) {
      const error = await refusal(options);
      expect(error, JSON.stringify(options)).toMatchObject({ code: "INVALID_OPTIONS", option });
    }
    expect((await refusal({ prot: 1 })).message).toBe("options.prot: unknown option (did you mean 'port'?)");
    expect(await refusal("fast")).toMatchObject({ code: "INVALID_OPTIONS", option: "options" });
  });

  it("refuses something that is not a bus with INVALID_OPTIONS naming it", async () => {
    for (const bus of [null, {}, { stats: () => ({}) }, new Map()])
      await expect(serveMonitor(bus as never)).rejects.toMatchObject({
        code: "INVALID_OPTIONS",
        option: "bus",
      });
  });

  it("refuses a non-loopback host without a token before binding anything", async () => {
    for (const host of ["0.0.0.0", "::", "192.0.2.10", "example.com"]) {
      const error = await refusal({ host });
      expect(error).toBeInstanceOf(MonitorTokenRequiredError);
      expect(error).toMatchObject({ code: "MONITOR_TOKEN_REQUIRED", host });
    }
  });

  it("knows the loopback names and addresses", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"])
      expect(isLoopback(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "128.0.0.1", "localhost.example", "127.0.0.1.nip.io"])
      expect(isLoopback(host)).toBe(false);
  });

  it("binds a free port on 127.0.0.1 by default and says where in its url", async () => {
    const bus = new Bus({ logger: quiet });
    const monitor = await serveMonitor(bus);
    try {
      expect(monitor.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(Number(new URL(monitor.url).port)).toBeGreaterThan(0);
    } finally {
      await monitor.close();
      await bus.stop();
    }
  });

  it("rejects when the port is taken, leaving nothing running", async () => {
    const bus = new Bus({ logger: quiet });
    const first = await serveMonitor(bus);
    const port = Number(new URL(first.url).port);
    try {
      await expect(serveMonitor(bus, { port })).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await first.close();
      await bus.stop();
    }
  });
});
