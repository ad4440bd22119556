// Nothing hangs after stop: every public call of both buses, of an attached client and of each
// helper settles within a bound when it is made before stop() (still pending), while stop() is in
// progress, and after it resolved.
import {
  Awaiter,
  Bus,
  type BusEvent,
  type EventBus,
  EventRouter,
  Subscriber,
  type Subscription,
} from "@threadbus/core";
import { Watcher } from "@threadbus/core/testing";
import { describe, expect, it } from "vitest";
import { type AttachedBus, attach, subscribePool, WorkerBus } from "../dist/index.js";
import { TASK_FILE } from "./fixtures/pool-helpers.js";

/** Far beyond a stop on a loaded 2-core machine (~10-200 ms), far below the helpers' own timeouts. */
const BOUND_MS = 4000;
/** Timeouts given to the calls themselves: a call that settles only through one of them hangs. */
const LONG_MS = 60_000;

type AnyBus = EventBus & {
  inspect?(): unknown;
  sendAsync?(event: BusEvent): Promise<boolean>;
  ready?(): Promise<void>;
  handle?(): unknown;
};
type Calls = Record<string, () => unknown>;

const event = { system: "s", kind: "k", path: "p" };
const quiet = { warn: () => undefined, error: () => undefined };

/** Starts every call at once; resolves with the names of those still pending after BOUND_MS. */
async function unsettled(calls: Calls): Promise<string[]> {
  const names = await Promise.all(
    Object.entries(calls).map(async ([name, call]) => {
      let timer: NodeJS.Timeout | undefined;
      const settled = (async () => {
        try {
          await call();
        } catch {
          // Rejecting is settling.
        }
        return null;
      })();
      const late = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(name), BOUND_MS);
      });
      const result = await Promise.race([settled, late]);
      clearTimeout(timer);
      return result;
    }),
  );
  return names.filter((name): name is string => name !== null);
}

/** Every public call that makes something new on a bus. */
function busCalls(bus: AnyBus): Calls {
  const calls: Calls = {
    subscribe: () => bus.subscribe("s", "k"),
    unsubscribe: () => bus.unsubscribe("sub.1"),
    send: () => bus.send(event),
    flush: () => bus.flush(),
    stats: () => bus.stats(),
    closed: () => bus.closed,
    stop: () => bus.stop(),
    "Subscriber.start": () => Subscriber.start(bus, "s", "k", () => undefined, { logger: quiet }),
    "EventRouter.start": () =>
      EventRouter.start(bus, { handlers: [{ pattern: () => ({ system: "s" }), handle: () => undefined }] }),
    "Awaiter.prepare": () => new Awaiter(bus, "s").prepare("p", { timeoutMs: LONG_MS }),
    "Watcher.start": () => Watcher.start(bus, "s"),
    subscribePool: () =>
      subscribePool(bus, "s", "k", { filename: TASK_FILE, pool: { minThreads: 0, maxThreads: 1 } }),
  };
  if (bus.inspect) calls.inspect = () => bus.inspect?.();
  if (bus.sendAsync) calls.sendAsync = () => bus.sendAsync?.(event);
  if (bus.ready) calls.ready = () => bus.ready?.();
  if (bus.handle) calls.handle = () => bus.handle?.();
  return calls;
}

/** Things made before stop, and the calls on them: some are pending when stop begins. */
async function liveCalls(bus: AnyBus): Promise<{ pending: Calls; later: Calls }> {
  const sub = await bus.subscribe("s", "k");
  const batched = await bus.subscribe("s", "k");
  const subscriber = await Subscriber.start(bus, "s", "k", () => undefined);
  const router = await EventRouter.start(bus, {
    handlers: [{ pattern: () => ({ system: "s" }), handle: () => undefined }],
  });
  const awaiter = new Awaiter(bus, "s");
  const waiter = await awaiter.prepare("nobody-answers", { timeoutMs: LONG_MS });
  const watcher = await Watcher.start(bus, "s");
  const pool = await subscribePool(bus, "s", "k", {
    filename: TASK_FILE,
    pool: { minThreads: 0, maxThreads: 1 },
  });
  const iterator = sub[Symbol.asyncIterator]();
  const pending: Calls = {
    "iterator.next (pending)": () => iterator.next(),
    "nextBatch (pending)": () => (batched as Subscription).nextBatch?.(),
    "waiter.wait (pending)": () => waiter.wait(),
    "watcher.waitFor (pending)": () => watcher.waitFor(1, LONG_MS),
    "pool iterator (pending)": () => pool[Symbol.asyncIterator]().next(),
    "flush (pending)": () => bus.flush(),
  };
  if (bus.inspect) pending["inspect (pending)"] = () => bus.inspect?.();
  const later: Calls = {
    "sub.close": () => sub.close(),
    "sub.stats": () => sub.stats(),
    "subscriber.close": () => subscriber.close(),
    "router.stop": () => router.stop(),
    "awaiter.close": () => awaiter.close(),
    "watcher.close": () => watcher.close(),
    "watcher.expect": () => watcher.expect([{ kind: "never" }], LONG_MS),
    "pool.close": () => pool.close(),
    "pool.stats": () => pool.stats(),
  };
  return { pending, later };
}

/**
 * Makes live objects on `bus`, starts the pending calls, then stops through `stop` and, while
 * it runs, makes every call; once it resolved, every call again. Returns what did not settle.
 */
async function stopAndCall(bus: AnyBus, stop: () => Promise<void>): Promise<Record<string, string[]>> {
  const live = await liveCalls(bus);
  const pending = unsettled(live.pending);
  const stopping = stop();
  const during = unsettled({ ...busCalls(bus), ...live.later });
  const stopped = await unsettled({ stop: () => stopping });
  const after = await unsettled({ ...busCalls(bus), ...live.later });
  return { pending: await pending, during: await during, stopped, after };
}

const none = { pending: [], during: [], stopped: [], after: [] };

describe("every public call settles during and after stop", () => {
  it("on the in-thread Bus", async () => {
    const bus = new Bus({ logger: quiet });
    expect(await stopAndCall(bus, () => bus.stop())).toEqual(none);
  });

  it("on the WorkerBus", async () => {
    const bus = await WorkerBus.start({ logger: quiet });
    expect(await stopAndCall(bus, () => bus.stop())).toEqual(none);
  });

  it("on an attached client when the bus stops", async () => {
    const bus = await WorkerBus.start({ logger: quiet });
    const client: AttachedBus = attach(bus.handle(), quiet);
    try {
      expect(await stopAndCall(client, () => bus.stop())).toEqual(none);
    } finally {
      await bus.stop();
    }
  });

  it("on an attached client that detaches while the bus goes on", async () => {
    const bus = await WorkerBus.start({ logger: quiet });
    try {
      const client = attach(bus.handle(), quiet);
      expect(await stopAndCall(client, () => client.stop())).toEqual(none);
      expect(bus.closed).toBe(false);
    } finally {
      await bus.stop();
    }
  });
});
