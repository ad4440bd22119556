import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MISSING_SERVER_MESSAGE } from "./fixtures/nats_server.js";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const vitest = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");

/** Runs two of this package's test files in a child vitest, as if nats-server were not installed. */
function runWithoutServer(ci: boolean) {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NATS_SERVER_BIN: "none" };
  if (ci) env.CI = "true";
  const run = spawnSync(
    process.execPath,
    [vitest, "run", "test/server_available.test.ts", "test/bridge.test.ts"],
    { cwd: packageRoot, env, encoding: "utf8", timeout: 90_000 },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("without a nats-server binary", () => {
  it("a lone clone skips the server tests and says why", { timeout: 120_000 }, () => {
    const { status, output } = runWithoutServer(false);
    expect(status, output).toBe(0);
    expect(output).toContain(MISSING_SERVER_MESSAGE);
    expect(output).toMatch(/skipped/);
  });

  it("CI fails instead of passing by skipping", { timeout: 120_000 }, () => {
    const { status, output } = runWithoutServer(true);
    expect(status, output).not.toBe(0);
    expect(output).toContain("has a nats-server binary to run the bridge tests against");
  });
});
