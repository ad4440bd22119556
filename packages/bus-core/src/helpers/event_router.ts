import type { BusEvent } from "../event.js";
import type { EventBus, Logger, SubscribeOptions } from "../types.js";
import { Subscriber } from "./subscriber.js";

/** What a router handler listens to: a system pattern and an optional kind pattern. */
export interface RoutePattern {
  system: string;
  kind?: string;
}

export interface EventHandlerObject<D = unknown> {
  pattern(): RoutePattern;
  handle(event: BusEvent<D>): void | Promise<void>;
  /** Per-handler subscription options (buffer, overflow, path filter). */
  options?: SubscribeOptions;
}

export interface EventRouterOptions {
  // biome-ignore lint/suspicious/noExplicitAny: handlers of different data types live in one list; each narrows its own.
  handlers: readonly EventHandlerObject<any>[];
  logger?: Logger;
}

/** Starts one Subscriber per handler; `stop()` closes them all. */
export class EventRouter {
  readonly #subscribers: Subscriber[];

  private constructor(subscribers: Subscriber[]) {
    this.#subscribers = subscribers;
  }

  static async start(bus: EventBus, options: EventRouterOptions): Promise<EventRouter> {
    const logger = options.logger ?? console;
    const subscribers: Subscriber[] = [];
    try {
      for (const handler of options.handlers) {
        const { system, kind } = handler.pattern();
        const subscriber = await Subscriber.start(bus, system, kind, (event) => handler.handle(event), {
          ...handler.options,
          logger,
        });
        subscribers.push(subscriber);
      }
    } catch (error) {
      // Half a router is worse than none: undo what was started, then report.
      await Promise.all(subscribers.map((subscriber) => subscriber.close()));
      throw error;
    }
    return new EventRouter(subscribers);
  }

  get subscribers(): readonly Subscriber[] {
    return this.#subscribers;
  }

  async stop(): Promise<void> {
    await Promise.all(this.#subscribers.map((subscriber) => subscriber.close()));
  }
}
