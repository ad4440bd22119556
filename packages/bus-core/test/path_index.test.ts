import fc from "fast-check";
import { Minimatch } from "minimatch";
import { describe, expect, it } from "vitest";
import { compilePathFilter, compilePattern, SubscriptionIndex } from "../src/index.js";
import { isPlainPath, pathShape } from "../src/path_index.js";

/** minimatch as path_filter.ts configures it, compiled fresh: the reference every answer is held to. */
function minimatch(glob: string, path: string): boolean {
  return new Minimatch(glob, { platform: "linux" }).match(path);
}

// Segments chosen to hit what minimatch treats specially: dots, `..`, empty segments (doubled,
// leading and trailing slashes), braces that spell `..`, extglobs, negation, comments, escapes.
const pathSegment = fc.constantFrom("u", "v", "1", "12", "a.b", ".x", ".", "..", "", "*", "{u,v}", "!u", "#");
const globSegment = fc.constantFrom(
  "u",
  "v",
  "1",
  "12",
  "a.b",
  ".x",
  "*",
  "**",
  "?",
  "1*",
  "{u,v}",
  "{1,..}",
  "{,u}",
  "[uv]",
  "!(u)",
  "+(u)",
  "@(u|v)",
  ".",
  "..",
  "",
  "\\*",
);
const plainPath = fc
  .array(fc.constantFrom("u", "v", "1", "12"), { minLength: 1, maxLength: 4 })
  .map((s) => s.join("/"));
const path = fc.oneof(
  plainPath,
  fc.array(pathSegment, { minLength: 0, maxLength: 4 }).map((s) => s.join("/")),
  // Near misses of plain paths that minimatch still matches against plain globs ("u//v" is "u/v").
  fc
    .tuple(
      plainPath,
      fc.constantFrom(
        (p: string) => `${p}/`,
        (p: string) => p.replace("/", "//"),
        (p: string) => `./${p}`,
      ),
    )
    .map(([p, spoil]) => spoil(p)),
);
const glob = fc.oneof(
  // Mostly literal paths and literal prefixes, the shapes the index looks up.
  plainPath,
  fc
    .tuple(fc.array(fc.constantFrom("u", "v", "1"), { minLength: 1, maxLength: 2 }), globSegment)
    .map(([prefix, last]) => [...prefix, last].join("/")),
  fc.array(globSegment, { minLength: 1, maxLength: 4 }).map((s) => s.join("/")),
  fc.array(globSegment, { minLength: 1, maxLength: 3 }).map((s) => `!${s.join("/")}`),
  fc.constantFrom("#u", "u/", "/u", "u//v", "**"),
);
const system = fc.constantFrom("chat", "room", "*", "**", "(chat|room)");
const kind = fc.constantFrom("", "message", "join", "*", "(message|join)");
const subscription = fc.record({ system, kind, path: fc.option(glob, { nil: undefined }) });
const event = fc.record({
  system: fc.constantFrom("chat", "room"),
  kind: fc.constantFrom("message", "join"),
  path,
});

interface Sub {
  system: string;
  kind: string;
  path: string | undefined;
}

/** What a scan of every live subscription answers, in subscription order. */
function scan(subs: ReadonlyMap<number, Sub>, e: { system: string; kind: string; path: string }): number[] {
  const out: number[] = [];
  for (const [i, s] of subs) {
    if (!compilePattern(s.system).match(e.system)) continue;
    if (s.kind !== "" && !compilePattern(s.kind).match(e.kind)) continue;
    if (s.path !== undefined && !minimatch(s.path, e.path)) continue;
    out.push(i);
  }
  return out;
}

describe("paths in the subscription index", () => {
  it("routes exactly what a scan of every subscription with minimatch would, in order, across removals", () => {
    fc.assert(
      fc.property(
        fc.array(subscription, { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 15 }),
        fc.array(event, { minLength: 1, maxLength: 20 }),
        (subs, removals, events) => {
          const index = new SubscriptionIndex<number>();
          const live = new Map<number, Sub>();
          subs.forEach((s, i) => {
            try {
              index.add(`sub.${i}`, s.system, s.kind, i, s.path);
              live.set(i, s);
            } catch {
              // A glob compilePathFilter refuses (a comment, `matches nothing`): no subscription.
            }
          });
          const check = () => {
            for (const e of events) {
              const expected = scan(live, e);
              expect(index.route(e.system, e.kind, e.path).map((x) => x.value)).toEqual(expected);
              expect(index.route(e.system, e.kind, e.path).map((x) => x.value)).toEqual(expected);
            }
          };
          check();
          for (const r of removals) {
            const ids = [...live.keys()];
            if (ids.length === 0) break;
            const id = ids[r % ids.length]!;
            index.remove(`sub.${id}`);
            live.delete(id);
          }
          check();
        },
      ),
      { numRuns: 400 },
    );
  });

  it("compiles path filters that answer as minimatch does, literal globs included", () => {
    fc.assert(
      fc.property(glob, fc.array(path, { minLength: 1, maxLength: 10 }), (g, paths) => {
        let filter: ReturnType<typeof compilePathFilter>;
        try {
          filter = compilePathFilter(g);
        } catch {
          return;
        }
        for (const p of paths) expect(filter.match(p)).toBe(minimatch(g, p));
      }),
      { numRuns: 1000 },
    );
  });

  it("sorts globs into literal paths, literal prefixes and the scanned rest", () => {
    expect(pathShape("user/42")).toEqual({ literal: "user/42" });
    expect(pathShape("user/42/*")).toEqual({ prefix: ["user", "42"] });
    expect(pathShape("user/4*")).toEqual({ prefix: ["user"] });
    expect(pathShape("user/{1,2}")).toEqual({ prefix: ["user"] });
    for (const scanned of [
      "*/42",
      "**",
      "{a,b}/c",
      "!user/1",
      "#user",
      "user/../x",
      "a/{..,b}",
      "a//b",
      "/a",
      "a/",
      "a/./b",
    ]) {
      expect(pathShape(scanned)).toBeNull();
    }
  });

  it("tells plain paths from those minimatch reads otherwise", () => {
    for (const plain of ["user/42", "a", ".x/y", "a.b/..c", "a/b c"]) expect(isPlainPath(plain)).toBe(true);
    for (const other of ["", "/a", "a/", "a//b", "./a", "a/.", "a/../b", "..", "."]) {
      expect(isPlainPath(other)).toBe(false);
    }
  });

  it("hands out the per-path list itself, and never changes one it handed out", () => {
    const index = new SubscriptionIndex<string>();
    index.add("sub.1", "chat", "message", "one", "user/1");
    index.add("sub.2", "chat", "message", "two", "user/1");
    index.add("sub.3", "chat", "message", "three", "user/2");
    const first = index.route("chat", "message", "user/1");
    expect(first.map((e) => e.value)).toEqual(["one", "two"]);
    expect(index.route("chat", "message", "user/1")).toBe(first);
    index.remove("sub.1");
    expect(first.map((e) => e.value)).toEqual(["one", "two"]);
    expect(index.route("chat", "message", "user/1").map((e) => e.value)).toEqual(["two"]);
    expect(index.route("chat", "message", "user/3")).toEqual([]);
  });

  it("keeps match() answering without paths, for callers that filter paths themselves", () => {
    const index = new SubscriptionIndex<string>();
    index.add("sub.1", "chat", "message", "one", "user/1");
    index.add("sub.2", "chat", "*", "two", "user/*");
    index.add("sub.3", "chat", "message", "three");
    expect(index.match("chat", "message").map((e) => e.value)).toEqual(["one", "two", "three"]);
    expect(index.route("chat", "message", "user/1").map((e) => e.value)).toEqual(["one", "two", "three"]);
    expect(index.route("chat", "message", "user/9").map((e) => e.value)).toEqual(["two", "three"]);
    expect(index.route("chat", "join", "user/1").map((e) => e.value)).toEqual(["two"]);
  });
});
