import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Awaiter,
  Bus,
  compilePathFilter,
  compilePattern,
  EventRouter,
  isThreadbusError,
  parseBusEvent,
  parseOptions,
  Subscriber,
  SubscriptionIndex,
} from "../src/index.js";
import { withTimeout } from "./contract/support.js";

/**
 * Every public entry point of @threadbus/core, fed values of every wrong kind: each call must
 * succeed or fail with a ThreadbusError carrying a stable code, never a raw TypeError, a user
 * getter's own exception, or a hang.
 */
const hostile = new Proxy(
  {},
  {
    get() {
      throw new Error("hostile getter");
    },
    ownKeys() {
      throw new Error("hostile keys");
    },
  },
);
const garbage: Array<[string, unknown]> = [
  ["undefined", undefined],
  ["null", null],
  ["0", 0],
  ["-1", -1],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["1.5", 1.5],
  ["2^53", 2 ** 53],
  ["empty string", ""],
  ["4 MB string", "x.".repeat(2_000_000)],
  ["true", true],
  ["{}", {}],
  ["[]", []],
  ["function", () => {}],
  ["symbol", Symbol("s")],
  ["bigint", 10n],
  ["hostile proxy", hostile],
  ["null-prototype object", Object.create(null)],
  [
    "throwing toString",
    {
      toString: () => {
        throw new Error("toString");
      },
    },
  ],
];

const quiet = { warn() {}, error() {} };
const buses: Bus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.stop({ timeoutMs: 100 })));
});

/** Runs `call`; returns the code of what it threw or rejected with, "ok", or fails the test. */
async function outcome(what: string, call: () => unknown): Promise<string> {
  let result: unknown;
  try {
    result = call();
    if (result instanceof Promise) result = await withTimeout(result, 5000, what);
  } catch (error) {
    if (isThreadbusError(error)) return error.code;
    throw new Error(`${what}: threw an uncoded ${(error as Error)?.name}: ${(error as Error)?.message}`);
  }
  if (result instanceof Bus) buses.push(result);
  return "ok";
}

const bad = (value: unknown) => value;

describe("bad input at every public entry point gets a coded error, never a crash or a hang", () => {
  for (const [label, value] of garbage) {
    it(`with ${label}`, async () => {
      const bus = new Bus({ logger: quiet });
      buses.push(bus);
      const event = { system: "s", kind: "k", path: "" };
      const calls: Array<[string, () => unknown]> = [
        ["new Bus(value)", () => new Bus(bad(value) as never)],
        ["new Bus({ maxQueue: value })", () => new Bus({ maxQueue: bad(value) as never, logger: quiet })],
        ["compilePattern(value)", () => compilePattern(bad(value) as never)],
        ["compilePathFilter(value)", () => compilePathFilter(bad(value) as never)],
        ["parseBusEvent(value)", () => parseBusEvent(value)],
        ["new SubscriptionIndex(value)", () => new SubscriptionIndex(bad(value) as never)],
        ["index.add(id, value)", () => new SubscriptionIndex().add("sub.1", bad(value) as never, "", null)],
        ["send(value)", () => bus.send(bad(value) as never)],
        ["send({ system: value })", () => bus.send({ ...event, system: bad(value) as never })],
        ["send({ path: value })", () => bus.send({ ...event, path: bad(value) as never })],
        ["send(event, value)", () => bus.send(event, bad(value) as never)],
        ["send(event, { signal: value })", () => bus.send(event, { signal: bad(value) as never })],
        ["subscribe(value)", () => bus.subscribe(bad(value) as never)],
        ["subscribe(s, value)", () => bus.subscribe("s", bad(value) as never)],
        ["subscribe(s, k, value)", () => bus.subscribe("s", "k", bad(value) as never)],
        ["subscribe bufferSize", () => bus.subscribe("s", "k", { bufferSize: bad(value) as never })],
        ["subscribe path", () => bus.subscribe("s", "k", { path: bad(value) as never })],
        ["subscribe signal", () => bus.subscribe("s", "k", { signal: bad(value) as never })],
        ["unsubscribe(value)", () => bus.unsubscribe(bad(value) as never)],
        ["stop(value)", () => new Bus({ logger: quiet }).stop(bad(value) as never)],
        [
          "stop({ timeoutMs: value })",
          () => new Bus({ logger: quiet }).stop({ timeoutMs: bad(value) as never }),
        ],
        ["new Awaiter(value, s)", () => new Awaiter(bad(value) as never, "s")],
        ["new Awaiter(bus, value)", () => new Awaiter(bus, bad(value) as never)],
        ["new Awaiter(bus, s, value)", () => new Awaiter(bus, "s", bad(value) as never)],
        ["prepare(value)", () => new Awaiter(bus, "a").prepare(bad(value) as never, { timeoutMs: 10 })],
        [
          "prepare(p, value)",
          async () => (await new Awaiter(bus, "a").prepare("p", bad(value) as never)).cancel(),
        ],
        [
          "prepare(p, { timeoutMs: value })",
          async () => (await new Awaiter(bus, "a").prepare("p", { timeoutMs: bad(value) as never })).cancel(),
        ],
        ["Subscriber.start(value)", () => Subscriber.start(bad(value) as never, "s", "", () => {})],
        ["Subscriber.start handler", () => Subscriber.start(bus, "s", "", bad(value) as never)],
        [
          "Subscriber.start options",
          async () => (await Subscriber.start(bus, "s", "", () => {}, bad(value) as never)).close(),
        ],
        ["EventRouter.start(value)", () => EventRouter.start(bad(value) as never, { handlers: [] })],
        [
          "EventRouter.start(bus, value)",
          async () => (await EventRouter.start(bus, bad(value) as never)).stop(),
        ],
        [
          "EventRouter handlers: value",
          async () => (await EventRouter.start(bus, { handlers: bad(value) as never })).stop(),
        ],
        [
          "EventRouter handlers: [value]",
          async () => (await EventRouter.start(bus, { handlers: [bad(value) as never] })).stop(),
        ],
        [
          "EventRouter pattern() returns value",
          async () =>
            (
              await EventRouter.start(bus, {
                handlers: [{ pattern: () => bad(value) as never, handle() {} }],
              })
            ).stop(),
        ],
      ];
      const codes = new Set<string>();
      for (const [what, call] of calls) codes.add(await outcome(`${what} with ${label}`, call));
      // Whatever was thrown carried a code; the bus still works afterwards.
      expect([...codes].every((code) => /^[A-Z_]+$/.test(code) || code === "ok")).toBe(true);
      const sub = await bus.subscribe("after", "", { overflow: "drop-newest", bufferSize: 1 });
      expect(bus.send({ system: "after", kind: "k", path: "" })).toBe(true);
      await bus.flush();
      expect(sub.stats().delivered).toBe(1);
    }, 60_000);
  }
});

describe("unknown option keys", () => {
  it("are refused everywhere with INVALID_OPTIONS naming the key and the closest known option", async () => {
    const bus = new Bus({ logger: quiet });
    buses.push(bus);
    const cases: Array<[string, () => unknown, string]> = [
      ["subscribe", () => bus.subscribe("s", "", { overflw: "drop-oldest" } as never), "options.overflw"],
      ["Bus", () => new Bus({ maxSubscriber: 5 } as never), "options.maxSubscriber"],
      [
        "send",
        () => bus.send({ system: "s", kind: "k", path: "" }, { sginal: undefined } as never),
        "options.sginal",
      ],
      ["stop", () => new Bus().stop({ timeout: 5 } as never), "options.timeout"],
      ["SubscriptionIndex", () => new SubscriptionIndex({ cachesize: 5 } as never), "options.cachesize"],
      ["prepare", () => new Awaiter(bus, "a").prepare("p", { timeout: 5 } as never), "options.timeout"],
      [
        "Subscriber",
        () => Subscriber.start(bus, "s", "", () => {}, { loger: quiet } as never),
        "options.loger",
      ],
      ["EventRouter", () => EventRouter.start(bus, { handlers: [], loger: quiet } as never), "options.loger"],
      [
        "EventRouter handler options",
        () =>
          EventRouter.start(bus, {
            handlers: [{ pattern: () => ({ system: "s" }), handle() {}, options: { bufersize: 2 } as never }],
          }),
        "options.handlers.0.options.bufersize",
      ],
    ];
    for (const [where, call, option] of cases) {
      let caught: unknown;
      try {
        await call();
      } catch (error) {
        caught = error;
      }
      expect(caught, where).toMatchObject({ code: "INVALID_OPTIONS", option });
      expect((caught as Error).message, where).toContain("unknown option (did you mean");
    }
    const error = await bus.subscribe("s", "", { overflw: "drop-oldest" } as never).catch((e: unknown) => e);
    expect((error as Error).message).toBe("options.overflw: unknown option (did you mean 'overflow'?)");
    expect(bus.stats().subscriptions).toBe(0);
  });
});

describe("parseOptions names the closest key where the typo is", () => {
  const schema = z.strictObject({
    name: z.string().optional(),
    pool: z.strictObject({ maxThreads: z.number().optional() }).optional(),
    routes: z.array(z.strictObject({ system: z.string().optional() })).optional(),
  });
  const messageOf = (value: unknown): string => {
    try {
      parseOptions(schema, value);
    } catch (error) {
      return (error as Error).message;
    }
    return "accepted";
  };

  it("inside a nested object, an array element, and one level up from where the key belongs", () => {
    expect(messageOf({ nmae: "x" })).toBe("options.nmae: unknown option (did you mean 'name'?)");
    expect(messageOf({ pool: { maxThread: 1 } })).toBe(
      "options.pool.maxThread: unknown option (did you mean 'maxThreads'?)",
    );
    expect(messageOf({ routes: [{ system: "a" }, { sytem: "b" }] })).toBe(
      "options.routes.1.sytem: unknown option (did you mean 'system'?)",
    );
    expect(messageOf({ maxThreads: 1 })).toBe(
      "options.maxThreads: unknown option (did you mean 'pool.maxThreads'?)",
    );
    expect(messageOf({ colour: 1 })).toBe("options.colour: unknown option");
  });
});
