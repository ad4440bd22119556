import { afterEach, describe, expect, it } from "vitest";
import type { BusEvent, EventBus, Subscription } from "../../src/index.js";
import { BusPool, type ContractSuiteOptions, type MakeBus, random, tick } from "./support.js";

interface Recorded {
  events: BusEvent[];
  subscription: Subscription;
  done: Promise<void>;
}

/** Consumes a subscription, optionally slowly, and optionally dies (stops reading) at some point. */
function record(
  subscription: Subscription,
  options: { slowEvery?: number; dieAfter?: number } = {},
): Recorded {
  const events: BusEvent[] = [];
  const done = (async () => {
    for await (const e of subscription) {
      events.push(e);
      if (options.slowEvery && events.length % options.slowEvery === 0) await tick();
      if (options.dieAfter !== undefined && events.length >= options.dieAfter) break;
    }
  })();
  return { events, subscription, done };
}

/** Per publisher, the sequence numbers a subscriber received must strictly increase (no dupes, no reorder). */
function expectInOrderPerPublisher(events: BusEvent[], label: string): void {
  const last = new Map<string, number>();
  for (const e of events) {
    const [publisher, seqText] = e.path.split(":");
    const seq = Number(seqText);
    const previous = last.get(publisher!) ?? -1;
    expect(seq, `${label}: ${e.path} after ${publisher}:${previous}`).toBeGreaterThan(previous);
    last.set(publisher!, seq);
  }
}

async function publisher(
  bus: EventBus,
  name: string,
  count: number,
  rand: () => number,
  accepted: string[],
): Promise<void> {
  for (let seq = 0; seq < count; seq++) {
    const path = `${name}:${seq}`;
    if (bus.send({ system: "load", kind: seq % 3 === 0 ? "tick.big" : "tick", path, data: seq }))
      accepted.push(path);
    else if (bus.closed) return;
    if (rand() < 0.05) await tick();
  }
}

export function stressSuite(make: MakeBus, suite: Required<ContractSuiteOptions>): void {
  const pool = new BusPool(make);
  afterEach(() => pool.stopAll());

  describe("stress", () => {
    for (const seed of [7, 1234, 99_991]) {
      it(`many publishers, slow and dying subscribers, random unsubscribes and a stop mid-stream (seed ${seed})`, async () => {
        const rand = random(seed);
        const bus = await pool.create();
        const publishers = 4;
        const perPublisher = 3000;
        const total = publishers * perPublisher;

        const steady = record(await bus.subscribe("load", "**", { bufferSize: 64 }), { slowEvery: 97 });
        const lossy = record(await bus.subscribe("load", "", { bufferSize: 8, overflow: "drop-newest" }), {
          slowEvery: 3,
        });
        const oldest = record(
          await bus.subscribe("**", "tick.*", { bufferSize: 8, overflow: "drop-oldest" }),
          { slowEvery: 5 },
        );
        const dying = record(await bus.subscribe("load", "", { bufferSize: 16 }), {
          dieAfter: 100 + Math.floor(rand() * 500),
        });
        const churn: Recorded[] = [];

        const accepted: string[][] = Array.from({ length: publishers }, () => []);
        const running = Array.from({ length: publishers }, (_, p) =>
          publisher(bus, `p${p}`, perPublisher, rand, accepted[p]!),
        );

        // Random subscribes and unsubscribes while events flow, then a stop at a random moment.
        const stopAfter = Math.floor(total * (0.4 + rand() * 0.5));
        while (
          accepted.reduce((n, list) => n + list.length, 0) < stopAfter &&
          !running.every((p) => p === undefined)
        ) {
          if (rand() < 0.3) churn.push(record(await bus.subscribe("load", "tick", { bufferSize: 32 })));
          if (churn.length > 0 && rand() < 0.2)
            await churn[Math.floor(rand() * churn.length)]!.subscription.close();
          await tick();
          if (accepted.every((list, p) => list.length === perPublisher || p < 0)) break;
        }
        await bus.stop();
        await Promise.all(running);
        await Promise.all([steady, lossy, oldest, dying, ...churn].map((r) => r.done));

        const sent = accepted.reduce((n, list) => n + list.length, 0);
        const stats = bus.stats();
        expect(stats.sent).toBe(sent);
        const dispatched = sent - stats.droppedOnStop;
        expect(dispatched).toBeGreaterThan(0);
        // Every subscriber reads or is gone: an ordered stop delivers everything accepted before it.
        if (suite.orderedStop) expect(stats.droppedOnStop).toBe(0);

        // "block" with a live reader: exactly every dispatched event, once, in order per publisher.
        expect(steady.events.length).toBe(dispatched);
        expectInOrderPerPublisher(steady.events, "steady");
        expect(new Set(steady.events.map((e) => e.path)).size).toBe(dispatched);

        // drop policies: every dispatched event was received or counted as dropped.
        for (const [label, r] of [
          ["drop-newest", lossy],
          ["drop-oldest", oldest],
        ] as const) {
          expectInOrderPerPublisher(r.events, label);
          const matching =
            label === "drop-oldest" ? steady.events.filter((e) => e.kind === "tick.big").length : dispatched;
          expect(r.events.length + r.subscription.stats().dropped, label).toBe(matching);
        }

        // A subscriber that stopped reading got a prefix of the stream and did not hold the bus.
        expectInOrderPerPublisher(dying.events, "dying");
        expect(dying.events.map((e) => e.path)).toEqual(
          steady.events.slice(0, dying.events.length).map((e) => e.path),
        );

        // Churning subscribers saw a contiguous run of the global order.
        const position = new Map(steady.events.map((e, i) => [e.path, i]));
        for (const r of churn) {
          const tickEvents = r.events;
          expectInOrderPerPublisher(tickEvents, r.subscription.id);
          const positions = tickEvents.map((e) => position.get(e.path)!);
          for (let i = 1; i < positions.length; i++) expect(positions[i]!).toBeGreaterThan(positions[i - 1]!);
        }
        expect(stats.subscriptions).toBe(0);
      });
    }

    for (const seed of [11, 4242, 77_777]) {
      it.runIf(suite.orderedStop)(
        `stop({ timeoutMs }) at a random moment with a subscriber that never reads: every accepted send reaches all or is counted once (seed ${seed})`,
        async () => {
          const rand = random(seed);
          const bus = await pool.create();
          const stuck = await bus.subscribe("load", "", { bufferSize: 1 + Math.floor(rand() * 64) });
          const reader = record(await bus.subscribe("**", "", { bufferSize: 8 }), { slowEvery: 13 });
          const oldest = record(
            await bus.subscribe("load", "tick", { bufferSize: 4, overflow: "drop-oldest" }),
            {
              slowEvery: 2,
            },
          );
          const accepted: string[][] = [[], [], []];
          const running = accepted.map((list, p) => publisher(bus, `p${p}`, 2000, rand, list));
          const stopAfter = Math.floor(rand() * 3000);
          while (accepted.reduce((n, list) => n + list.length, 0) < stopAfter) await tick();
          await bus.stop({ timeoutMs: Math.floor(rand() * 30) });
          await Promise.all(running);
          await Promise.all([reader.done, oldest.done]);
          const stuckEvents: BusEvent[] = [];
          for await (const e of stuck) stuckEvents.push(e);

          const sent = accepted.reduce((n, list) => n + list.length, 0);
          const { droppedOnStop, sent: counted } = bus.stats();
          expect(counted).toBe(sent);
          const dispatched = sent - droppedOnStop;
          // What was dispatched is a prefix of the global order, the same for every subscriber.
          expect(reader.events.length).toBe(dispatched);
          expectInOrderPerPublisher(reader.events, "reader");
          expect(stuckEvents.map((e) => e.path)).toEqual(reader.events.map((e) => e.path));
          const ticks = reader.events.filter((e) => e.kind === "tick").length;
          expect(oldest.events.length + oldest.subscription.stats().dropped).toBe(ticks);
          expect(bus.stats().subscriptions).toBe(0);
        },
      );
    }
  });
}
