import { Minimatch } from "minimatch";
import { describe, expect, it } from "vitest";
import { Bus, type BusEvent, compilePattern, type Subscription } from "../src/index.js";
import { random, tick } from "./contract/support.js";

const SYSTEMS = ["chat", "room"] as const;
const KINDS = ["message", "join"] as const;
const ENTITIES = 24;
const FILTERS = {
  system: ["chat", "chat", "room", "*", "**"],
  kind: ["", "message", "message", "(message|join)"],
  path: [undefined, "lit", "lit", "lit", "user/1*", "user/*", "*/3", "{user,team}/2"],
};

/** A subscription made by the churn loop: where its subscribe and close fell in the bus's one order. */
interface Made {
  system: string;
  kind: string;
  path: string | undefined;
  subscribedAt: number;
  closedAt: number;
  received: number[];
  done: Promise<void>;
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

/** Whether `made` should see an event by its filters alone: decided by minimatch, not the bus's index. */
function matcher(made: Made): (event: BusEvent) => boolean {
  const system = compilePattern(made.system);
  const kind = made.kind === "" ? null : compilePattern(made.kind);
  const path = made.path === undefined ? null : new Minimatch(made.path, { platform: "linux" });
  return (event) =>
    system.match(event.system) &&
    (kind === null || kind.match(event.kind)) &&
    (path?.match(event.path) ?? true);
}

/**
 * Every call that enqueues an action (send, subscribe, close) takes the next tick of `clock` in
 * the same synchronous step, so the clock is the order of the bus's one action queue: an event is
 * owed to exactly the subscriptions subscribed before it and closed after it whose filters match.
 */
async function churn(seed: number): Promise<{ made: Made[]; sent: Map<number, BusEvent> }> {
  const rand = random(seed);
  const bus = new Bus();
  let clock = 0;
  const sent = new Map<number, BusEvent>();
  const made: Made[] = [];
  const live: { made: Made; subscription: Subscription }[] = [];
  let publishing = true;

  const consume = async (subscription: Subscription, into: Made): Promise<void> => {
    for await (const event of subscription) {
      into.received.push(event.data as number);
      if (rand() < 0.02) await tick();
    }
  };

  const publish = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) {
      const at = clock++;
      const event = {
        system: pick(rand, SYSTEMS),
        kind: pick(rand, KINDS),
        path: `${rand() < 0.9 ? "user" : "team"}/${Math.floor(rand() * ENTITIES)}`,
        data: at,
      };
      expect(bus.send(event)).toBe(true);
      sent.set(at, event);
      if (rand() < 0.1) await tick();
    }
  };

  const subscribeOrClose = async (): Promise<void> => {
    while (publishing) {
      if (live.length > 0 && rand() < 0.45) {
        const [{ made: closing, subscription }] = live.splice(Math.floor(rand() * live.length), 1);
        closing!.closedAt = clock++;
        // Not awaited: the close is queued now, while publishers keep sending around it.
        void subscription!.close();
      } else {
        let path = pick(rand, FILTERS.path);
        if (path === "lit") path = `user/${Math.floor(rand() * ENTITIES)}`;
        const entry: Made = {
          system: pick(rand, FILTERS.system),
          kind: pick(rand, FILTERS.kind),
          path,
          subscribedAt: clock++,
          closedAt: Number.POSITIVE_INFINITY,
          received: [],
          done: Promise.resolve(),
        };
        const pending = bus.subscribe(entry.system, entry.kind, path === undefined ? {} : { path });
        made.push(entry);
        const subscription = await pending;
        entry.done = consume(subscription, entry);
        live.push({ made: entry, subscription });
      }
      if (rand() < 0.5) await tick();
    }
  };

  const churning = subscribeOrClose();
  await Promise.all([publish(2500), publish(2500), publish(2500), publish(2500)]);
  publishing = false;
  await churning;
  await bus.stop();
  await Promise.all(made.map((m) => m.done));
  return { made, sent };
}

describe("subscription churn on the in-thread Bus", () => {
  for (const seed of [3, 42, 2026]) {
    it(`delivers every event to exactly the subscriptions live for it, in order, while they come and go (seed ${seed})`, async () => {
      const { made, sent } = await churn(seed);
      const order = [...sent.keys()];
      let owed = 0;
      let openedAndClosed = 0;
      for (const m of made) {
        const matches = matcher(m);
        const expected = order.filter(
          (at) => at > m.subscribedAt && at < m.closedAt && matches(sent.get(at)!),
        );
        expect(m.received, `${m.system} ${m.kind || "*"} ${m.path ?? ""}`).toEqual(expected);
        owed += expected.length;
        if (m.closedAt !== Number.POSITIVE_INFINITY && expected.length > 0) openedAndClosed++;
      }
      // The run means something only if subscriptions came and went while events reached them.
      expect(made.length).toBeGreaterThan(200);
      expect(openedAndClosed).toBeGreaterThan(50);
      expect(owed).toBeGreaterThan(10_000);
    }, 30_000);
  }
});
