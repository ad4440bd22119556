import type { BusEvent } from "../event.js";
import type { EventBus, SubscribeOptions, Subscription } from "../types.js";

export type EventShape = Partial<BusEvent>;

function matchesShape(event: BusEvent, shape: EventShape): boolean {
  for (const key of ["system", "kind", "path"] as const) {
    if (shape[key] !== undefined && shape[key] !== event[key]) return false;
  }
  if ("data" in shape && JSON.stringify(shape.data) !== JSON.stringify(event.data)) return false;
  return true;
}

function describe(event: EventShape): string {
  return JSON.stringify(event);
}

/**
 * Test support for users of the bus (after Tailscale's eventbustest): records every event a
 * subscription receives and checks expectations against the recording.
 */
export class Watcher {
  readonly events: BusEvent[] = [];
  readonly subscription: Subscription;
  #waiters: Array<() => void> = [];
  #ended = false;
  readonly #done: Promise<void>;

  private constructor(subscription: Subscription) {
    this.subscription = subscription;
    this.#done = this.#record();
  }

  static async start(
    bus: EventBus,
    system = "**",
    kind?: string,
    options?: SubscribeOptions,
  ): Promise<Watcher> {
    return new Watcher(await bus.subscribe(system, kind, options));
  }

  /** Resolves once at least `count` events were recorded; rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 5000): Promise<BusEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (this.#ended)
        throw new Error(
          `watcher: expected ${count} events, got ${this.events.length} before the subscription ended`,
        );
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `watcher: expected ${count} events, got ${this.events.length} within ${timeoutMs} ms`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events;
  }

  /** Waits for events matching each shape in order (other events may come between). */
  async expect(shapes: EventShape[], timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let at = 0;
      for (const event of this.events) if (at < shapes.length && matchesShape(event, shapes[at]!)) at++;
      if (at === shapes.length) return;
      const left = deadline - Date.now();
      if (left <= 0 || this.#ended)
        throw new Error(`watcher: never saw ${describe(shapes[at]!)} (saw ${this.events.length} events)`);
      await this.waitFor(this.events.length + 1, left).catch(() => {});
    }
  }

  /** Waits until `shapes.length` events arrived and checks they are exactly these, in this order. */
  async expectExactly(shapes: EventShape[], timeoutMs = 5000): Promise<void> {
    await this.waitFor(shapes.length, timeoutMs).catch(() => {});
    const problems: string[] = [];
    if (this.events.length !== shapes.length)
      problems.push(`expected ${shapes.length} events, got ${this.events.length}`);
    shapes.forEach((shape, i) => {
      const event = this.events[i];
      if (!event || !matchesShape(event, shape)) {
        problems.push(`#${i}: expected ${describe(shape)}, got ${event ? describe(event) : "nothing"}`);
      }
    });
    if (problems.length > 0) throw new Error(`watcher: ${problems.join("; ")}`);
  }

  async close(): Promise<void> {
    await this.subscription.close();
    await this.#done;
  }

  async #record(): Promise<void> {
    try {
      for await (const event of this.subscription) {
        this.events.push(event);
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const wake of waiters) wake();
      }
    } catch {
      // The recording ends with the subscription, whatever ended it.
    }
    // No event can come any more: waits end now instead of at their timeouts.
    this.#ended = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
