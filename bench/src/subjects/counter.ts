import { type EventBus, Subscriber, type Subscription } from "@threadbus/core";

/** How a threadbus subject consumes: `for await` on the Subscription, or a callback Subscriber. */
export type ConsumerStyle = "iterator" | "callback";

/** The two threadbus subjects of the in-thread scenarios, named as they appear in results. */
export const THREADBUS_CONSUMERS: ReadonlyArray<{ subject: string; via: ConsumerStyle }> = [
  { subject: "threadbus Bus", via: "iterator" },
  { subject: "threadbus Subscriber (callback)", via: "callback" },
];

/**
 * Drains a subscription in a `for await` loop, the way a user consumes one, counting events.
 * `until(n)` resolves once n events have arrived in total (counts accumulate across repeats,
 * because a subscription can be iterated only once).
 */
export class Counter {
  count = 0;
  #target = Number.POSITIVE_INFINITY;
  #reached: (() => void) | null = null;
  ended: Promise<void>;
  readonly #onEvent: ((data: unknown) => void) | undefined;

  constructor(subscription: Subscription | null, onEvent?: (data: unknown) => void) {
    this.#onEvent = onEvent;
    this.ended = subscription ? this.#drain(subscription) : Promise.resolve();
  }

  /** Subscribes and counts, consuming the way `via` says. */
  static async start(
    bus: EventBus,
    system: string,
    kind: string | undefined,
    via: ConsumerStyle,
  ): Promise<Counter> {
    return via === "callback"
      ? Counter.viaSubscriber(bus, system, kind)
      : new Counter(await bus.subscribe(system, kind));
  }

  /**
   * Counts through a `Subscriber` (a callback per event, like an emitter listener) instead of
   * `for await`: the like-for-like threadbus subject beside the synchronous emitter peers.
   */
  static async viaSubscriber(bus: EventBus, system: string, kind?: string): Promise<Counter> {
    const counter = new Counter(null);
    const subscriber = await Subscriber.start(bus, system, kind, () => {
      if (++counter.count >= counter.#target) counter.#fire();
    });
    counter.ended = subscriber.done;
    return counter;
  }

  async #drain(subscription: Subscription): Promise<void> {
    const onEvent = this.#onEvent;
    for await (const event of subscription) {
      if (onEvent) onEvent(event.data);
      if (++this.count >= this.#target) this.#fire();
    }
  }

  /** Resolves when the total count reaches `target`. */
  until(target: number): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    this.#target = target;
    return new Promise((resolve) => {
      this.#reached = resolve;
    });
  }

  #fire(): void {
    const reached = this.#reached;
    this.#target = Number.POSITIVE_INFINITY;
    this.#reached = null;
    reached?.();
  }
}

/** Resolves when every counter reached `target`. */
export function allReach(counters: readonly Counter[], target: number): Promise<void> {
  return Promise.all(counters.map((c) => c.until(target))).then(() => undefined);
}
