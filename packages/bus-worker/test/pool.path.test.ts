import { Bus, type BusEvent, type EventBus } from "@threadbus/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Harness, job, type TaskResult } from "./fixtures/pool-helpers.js";

const harness = new Harness();
afterEach(() => harness.teardown());

const PATHS = [
  "",
  "a",
  "ab",
  "a.txt",
  "a/b",
  "a/b.txt",
  "a/b/c",
  "a/.hidden",
  "b/c",
  "c",
  "x",
  "x.txt",
  "x/y",
  "x/y/z",
  ".hidden",
  ".git/config",
];

/** What minimatch 11 (default options, as the bus compiles them) lets through for each glob. */
const EXPECTED: [glob: string, paths: string[]][] = [
  // `**` crosses "/" but, like `*`, never matches a dot-file segment; it also matches "".
  ["**", ["", "a", "ab", "a.txt", "a/b", "a/b.txt", "a/b/c", "b/c", "c", "x", "x.txt", "x/y", "x/y/z"]],
  // `a/**` needs something after "a/": "a" itself does not match.
  ["a/**", ["a/b", "a/b.txt", "a/b/c"]],
  ["**/c", ["a/b/c", "b/c", "c"]],
  ["{a,b}/**", ["a/b", "a/b.txt", "a/b/c", "b/c"]],
  ["{a,x}", ["a", "x"]],
  ["*", ["a", "ab", "a.txt", "c", "x", "x.txt"]],
  ["**/*.txt", ["a.txt", "a/b.txt", "x.txt"]],
  // Negation inverts the whole match, so dot-files and "x" itself (not under "x/") pass.
  [
    "!x/**",
    [
      "",
      "a",
      "ab",
      "a.txt",
      "a/b",
      "a/b.txt",
      "a/b/c",
      "a/.hidden",
      "b/c",
      "c",
      "x",
      "x.txt",
      ".hidden",
      ".git/config",
    ],
  ],
  // A dot-file matches only a glob segment that starts with a literal dot.
  [".*", [".hidden"]],
  ["**/.hidden", ["a/.hidden", ".hidden"]],
  [".git/**", [".git/config"]],
];

function event(path: string): BusEvent<{ seq: number }> {
  return { system: "fs", kind: "change", path, data: { seq: PATHS.indexOf(path) } };
}

async function delivered(bus: EventBus, glob: string): Promise<string[]> {
  const subscription = await bus.subscribe("fs", "change", { path: glob });
  for (const path of PATHS) bus.send(event(path));
  await bus.flush();
  await subscription.close();
  const paths: string[] = [];
  for await (const received of subscription) paths.push(received.path);
  return paths;
}

describe("path filters", () => {
  for (const [glob, paths] of EXPECTED) {
    it(`the in-thread Bus delivers exactly the paths minimatch matches for '${glob}'`, async () => {
      const bus = harness.bus();
      expect(await delivered(bus, glob)).toEqual(paths);
    });
  }

  it("non-matching events are not posted at all: the subscription's delivered counter skips them", async () => {
    const bus = harness.bus();
    const subscription = await bus.subscribe("fs", "change", { path: "a/**" });
    for (const path of PATHS) bus.send(event(path));
    await bus.flush();
    expect(subscription.stats()).toMatchObject({ delivered: 3, dropped: 0 });
    expect(bus.stats()).toMatchObject({ sent: PATHS.length, delivered: 3, dropped: 0 });
  });

  it("an empty path glob is refused with INVALID_OPTIONS, and a glob that matches nothing with INVALID_PATTERN", async () => {
    const bus = new Bus();
    await expect(bus.subscribe("fs", "change", { path: "" })).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
    });
    await expect(bus.subscribe("fs", "change", { path: "#comment" })).rejects.toMatchObject({
      code: "INVALID_PATTERN",
    });
    await bus.stop();
  });

  it("a pool subscription with a path glob runs tasks only for matching events", async () => {
    const bus = harness.bus();
    const results: TaskResult[] = [];
    const pool = await harness.pool(bus, "image", "resize", {
      path: "{thumbs,covers}/**/*.png",
      onResult: (_event, result) => results.push(result),
    });
    const paths = [
      "thumbs/1.png",
      "thumbs/a/2.png",
      "covers/3.png",
      "thumbs/4.jpg",
      "other/5.png",
      "thumbs/.6.png",
      "covers/7.png",
    ];
    for (const [seq, path] of paths.entries()) bus.send(job(seq, {}, path));
    await bus.flush();
    await vi.waitFor(() => expect(pool.stats().running + pool.stats().queued).toBe(0), {
      timeout: 15_000,
      interval: 5,
    });
    expect(results.map((result) => result.path)).toEqual([
      "thumbs/1.png",
      "thumbs/a/2.png",
      "covers/3.png",
      "covers/7.png",
    ]);
    expect(pool.stats()).toMatchObject({ received: 4, completed: 4, dropped: 0 });
  });
});
