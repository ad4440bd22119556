import { Bus, type BusEvent, Subscriber, SubscriptionIndex } from "@threadbus/core";
import { EventEmitter as EventEmitter3 } from "eventemitter3";
import type { CaseRecorder, Scenario } from "../scenario.js";
import { collectGarbage, nowNs } from "../stats.js";
import { publish } from "../subjects/publish.js";

/** Subscription counts of the cases; the goals compare the last with the first. */
export const PATH_SUBSCRIPTIONS = [100, 1_000, 10_000, 100_000] as const;

export const pathCaseId = (subscriptions: number): string =>
  `n-paths-${subscriptions >= 1000 ? `${subscriptions / 1000}k` : subscriptions}`;

/** Entities the "hot" case sends to, out of the most subscriptions. */
const HOT_ENTITIES = 1000;

/** The entity each event goes to: a fixed pseudo-random sequence, the same for every subject. */
const TARGETS = 1 << 16;

function targets(entities: number): Uint32Array {
  const out = new Uint32Array(TARGETS);
  let state = 2026;
  for (let i = 0; i < TARGETS; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    out[i] = state % entities;
  }
  return out;
}

/**
 * Counts, per entity, the events each subject's handlers received, and refuses any that reached
 * the wrong entity's handler: every subject must deliver each event exactly once, to its entity.
 */
class Tally {
  readonly perEntity: Uint32Array;
  total = 0;
  wrong = 0;
  #goal = Number.POSITIVE_INFINITY;
  #reached: (() => void) | null = null;

  constructor(entities: number) {
    this.perEntity = new Uint32Array(entities);
  }

  handler(entity: number, path: string): (event: BusEvent) => void {
    return (event) => {
      if (event.path !== path) this.wrong++;
      this.perEntity[entity]!++;
      if (++this.total >= this.#goal) {
        this.#goal = Number.POSITIVE_INFINITY;
        this.#reached?.();
      }
    };
  }

  until(goal: number): Promise<void> {
    if (this.total >= goal) return Promise.resolve();
    this.#goal = goal;
    return new Promise((resolve) => {
      this.#reached = resolve;
    });
  }

  /** Throws unless the last `count` events (from `before`) reached exactly their entities. */
  check(before: Uint32Array, order: Uint32Array, count: number): void {
    const owed = before.slice();
    for (let seq = 0; seq < count; seq++) owed[order[seq % TARGETS]!]!++;
    if (this.wrong > 0) throw new Error(`${this.wrong} events reached another entity's handler`);
    for (let entity = 0; entity < owed.length; entity++) {
      if (owed[entity] !== this.perEntity[entity])
        throw new Error(`entity ${entity}: received ${this.perEntity[entity]}, owed ${owed[entity]}`);
    }
  }
}

/**
 * N entities (`user/<i>`), the entity of each event, and the event of each sequence number. With
 * `active` < N, events go to the first `active` entities only (the others stay subscribed, idle).
 */
function workload(n: number, active = n) {
  const paths = Array.from({ length: n }, (_, i) => `user/${i}`);
  const order = targets(active);
  const send = (seq: number): BusEvent => ({
    system: "chat",
    kind: "message",
    path: paths[order[seq % TARGETS]!]!,
    data: seq,
  });
  return { paths, order, send };
}

/** Heap in use after a full collection, or NaN without --expose-gc. */
function heapAfterGc(): number {
  return collectGarbage() ? process.memoryUsage().heapUsed : Number.NaN;
}

/** The Bus subjects: each entity's subscription drained by `for await`, or by a Subscriber callback. */
export const BUS_ITERATED = "threadbus Bus";
export const BUS_SUBSCRIBER = "threadbus Bus, Subscriber callbacks";

async function busSubject(
  recorder: CaseRecorder,
  target: ReturnType<CaseRecorder["case"]>,
  n: number,
  count: number,
  consumer: "iterator" | "subscriber",
  active = n,
) {
  const { paths, order, send } = workload(n, active);
  await recorder.subject(target, {
    subject: consumer === "iterator" ? BUS_ITERATED : BUS_SUBSCRIBER,
    threadbus: true,
    unit: "events/s",
    async setup() {
      const bus = new Bus({ maxSubscribers: n });
      const tally = new Tally(n);
      const heapBefore = heapAfterGc();
      if (consumer === "subscriber") {
        await Promise.all(
          paths.map((path, entity) =>
            Subscriber.start(bus, "chat", "message", tally.handler(entity, path), { path }),
          ),
        );
        return { bus, tally, perSubscription: (heapAfterGc() - heapBefore) / n };
      }
      const subscriptions = await Promise.all(
        paths.map((path) => bus.subscribe("chat", "message", { path })),
      );
      const perSubscription = (heapAfterGc() - heapBefore) / n;
      subscriptions.forEach((subscription, entity) => {
        const handle = tally.handler(entity, paths[entity]!);
        void (async () => {
          for await (const event of subscription) handle(event);
        })();
      });
      return { bus, tally, perSubscription };
    },
    warmup: async ({ bus, tally }) => {
      await publish(bus, Math.min(count, 100_000), send);
      await tally.until(Math.min(count, 100_000));
    },
    async repeat({ bus, tally, perSubscription }) {
      const before = tally.perEntity.slice();
      const goal = tally.total + count;
      // Each repeat starts the entity sequence over, so `check` knows what every handler is owed.
      const started = nowNs();
      await publish(bus, count, send);
      await tally.until(goal);
      const elapsed = nowNs() - started;
      tally.check(before, order, count);
      const extra = Number.isFinite(perSubscription)
        ? [{ name: "heap per idle subscription", value: perSubscription, unit: "bytes" as const }]
        : [];
      return { value: count / (elapsed / 1e9), extra };
    },
    teardown: ({ bus }) => bus.stop(),
  });
}

/**
 * The index alone, as the Bus's dispatcher uses it: `route()` for each event's (system, kind,
 * path), no delivery. Its own group, so no ratio mixes it with the peers, which deliver.
 */
async function routeSubject(
  recorder: CaseRecorder,
  target: ReturnType<CaseRecorder["case"]>,
  n: number,
  count: number,
) {
  const { paths, order, send } = workload(n);
  await recorder.subject(target, {
    subject: "threadbus SubscriptionIndex.route (routing only)",
    threadbus: true,
    group: "routing only",
    unit: "events/s",
    setup() {
      const index = new SubscriptionIndex<number>();
      for (const [entity, path] of paths.entries())
        index.add(`sub.${entity}`, "chat", "message", entity, path);
      return index;
    },
    warmup: async (index) => void routeLoop(index, order, send, Math.min(count, 100_000)),
    repeat: (index) => {
      const started = nowNs();
      routeLoop(index, order, send, count);
      return { value: count / ((nowNs() - started) / 1e9) };
    },
  });
}

function routeLoop(
  index: SubscriptionIndex<number>,
  order: Uint32Array,
  send: (seq: number) => BusEvent,
  count: number,
) {
  for (let seq = 0; seq < count; seq++) {
    const event = send(seq);
    const matched = index.route(event.system, event.kind, event.path);
    if (matched.length !== 1 || matched[0]!.value !== order[seq % TARGETS])
      throw new Error(`event ${seq} routed to ${matched.length} subscriptions, not to its entity`);
  }
}

/** A synchronous peer: `route(path, event)` calls the entity's handler. */
async function peerSubject(
  recorder: CaseRecorder,
  target: ReturnType<CaseRecorder["case"]>,
  n: number,
  count: number,
  peer: {
    subject: string;
    make: (paths: readonly string[], tally: Tally) => (path: string, event: BusEvent) => void;
  },
  active = n,
) {
  const { paths, order, send } = workload(n, active);
  await recorder.subject(target, {
    subject: peer.subject,
    threadbus: false,
    unit: "events/s",
    setup() {
      const tally = new Tally(n);
      return { tally, route: peer.make(paths, tally) };
    },
    warmup: async ({ route }) => {
      for (let seq = 0; seq < Math.min(count, 100_000); seq++) {
        const event = send(seq);
        route(event.path, event);
      }
    },
    repeat({ tally, route }) {
      const before = tally.perEntity.slice();
      const started = nowNs();
      for (let seq = 0; seq < count; seq++) {
        const event = send(seq);
        route(event.path, event);
      }
      const elapsed = nowNs() - started;
      tally.check(before, order, count);
      return { value: count / (elapsed / 1e9) };
    },
  });
}

const PEERS = [
  {
    subject: "Map<path, handler> by hand",
    make(paths: readonly string[], tally: Tally) {
      const handlers = new Map<string, (event: BusEvent) => void>();
      for (const [entity, path] of paths.entries()) handlers.set(path, tally.handler(entity, path));
      return (path: string, event: BusEvent) => handlers.get(path)?.(event);
    },
  },
  {
    subject: "eventemitter3, one listener per entity",
    make(paths: readonly string[], tally: Tally) {
      const emitter = new EventEmitter3();
      for (const [entity, path] of paths.entries()) emitter.on(path, tally.handler(entity, path));
      return (path: string, event: BusEvent) => void emitter.emit(path, event);
    },
  },
];

export const pathsScenario: Scenario = {
  id: "n-paths",
  title: "per-entity subscriptions: N literal paths on one (system, kind), in-thread",
  measures:
    "Events/s through the in-thread Bus with N subscriptions of chat / message, each with its own literal path filter (user/<i>), every event sent to a pseudo-random entity, so each event matches exactly one subscription. threadbus: send() in a loop (flush every 1024), every subscription drained with for await, or (second subject) handled by a Subscriber callback, which the in-thread Bus calls as it delivers; time from the first send to the last event received; afterwards each entity's handler must have received exactly the events sent to it. Beside it, the heap per idle subscription (heapUsed after global.gc(), before and after subscribing all N, Subscribers included). Also the index alone (SubscriptionIndex.route() per event, no delivery; its own group, no ratios). Peers, the same events and checks, synchronous: a Map<path, handler> written by hand, and eventemitter3 with one listener per entity (event name = path). Last, a diagnostic case: the 100,000 subscriptions again, with events sent to 1,000 of them only (Bus and the Map peer): same index, same subscription count, a small working set.",
  async run(recorder: CaseRecorder) {
    const count = recorder.quick ? 100_000 : 1_000_000;
    // CI's quick run keeps only the two sizes the goals compare: 100,000 subscriptions take seconds to make.
    const sizes = recorder.quick ? [PATH_SUBSCRIPTIONS[0], PATH_SUBSCRIPTIONS[3]] : PATH_SUBSCRIPTIONS;
    for (const n of sizes) {
      const target = recorder.case(
        pathCaseId(n),
        `${n.toLocaleString("en")} literal-path subscriptions, ${count.toLocaleString("en")} events`,
      );
      await busSubject(recorder, target, n, count, "iterator");
      await busSubject(recorder, target, n, count, "subscriber");
      await routeSubject(recorder, target, n, count);
      for (const peer of PEERS) await peerSubject(recorder, target, n, count, peer);
    }
    // The same 100,000 subscriptions, events to 1,000 of them: the index and the subscription
    // count are those of the 100k case, the memory each event touches that of the 1k case. The
    // gap between the two cases is the cost of waking consumers whose state is out of cache.
    const most = PATH_SUBSCRIPTIONS[PATH_SUBSCRIPTIONS.length - 1]!;
    const target = recorder.case(
      `${pathCaseId(most)}-hot${HOT_ENTITIES / 1000}k`,
      `${most.toLocaleString("en")} literal-path subscriptions, events to ${HOT_ENTITIES.toLocaleString("en")} of them, ${count.toLocaleString("en")} events`,
    );
    await busSubject(recorder, target, most, count, "iterator", HOT_ENTITIES);
    await busSubject(recorder, target, most, count, "subscriber", HOT_ENTITIES);
    await peerSubject(recorder, target, most, count, PEERS[0]!, HOT_ENTITIES);
  },
};
