import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { closeAll, harness } from "./helpers.js";

afterEach(closeAll);

const DIR = new URL("./wippy/", import.meta.url);
const read = (file: string) => readFileSync(new URL(file, DIR), "utf8");
/** Scripts the others spawn by id (Wippy spawns registry entries, not source). */
const REGISTERED: Record<string, string> = {
  "wippy:echo": "echo.lua",
  "wippy:add": "add.lua",
  "wippy:waiter": "waiter.lua",
};
const helpers = new Set(Object.values(REGISTERED));
const ARGS: Record<string, unknown[]> = { "entry.lua": ["hello", 3] };
const scripts = readdirSync(DIR).filter((file) => file.endsWith(".lua") && !helpers.has(file));

/**
 * Scripts written the way Wippy's docs and tests write them (`return { main = main }`, modules
 * from require, structured errors, select with time.after), run unchanged on LuaHost with its
 * defaults. Each main returns true, or fails an assert naming what differs.
 */
describe("Wippy-style scripts run unchanged", () => {
  it("finds the suite", () => {
    expect(scripts.length).toBeGreaterThanOrEqual(7);
  });

  for (const file of scripts) {
    it(file, async () => {
      const { host } = await harness({ engines: 2 });
      for (const [id, helper] of Object.entries(REGISTERED)) host.register(id, read(helper));
      const proc = host.spawn(read(file), { name: file, args: ARGS[file] ?? [] });
      await expect(proc.exited).resolves.toBe(true);
    });
  }
});
