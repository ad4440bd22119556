import { z } from "zod";
import type { CatalogueLike, Untyped } from "../catalogue_types.js";
import type { BusEvent } from "../event.js";
import { assertEventBus, loggerSchema, parseOptions, subscribeOptionsSchema } from "../options.js";
import type { EventBus, Logger, SubscribeOptions } from "../types.js";
import { Subscriber } from "./subscriber.js";

/** What a router handler listens to: a system pattern and an optional kind pattern. */
export interface RoutePattern {
  system: string;
  kind?: string;
}

export interface EventHandlerObject<D = unknown, E extends BusEvent<unknown> = BusEvent<D>> {
  pattern(): RoutePattern;
  handle(event: E): void | Promise<void>;
  /** Per-handler subscription options (buffer, overflow, path filter). */
  options?: SubscribeOptions;
}

export interface EventRouterOptions {
  // biome-ignore lint/suspicious/noExplicitAny: handlers of different data types live in one list; each narrows its own.
  handlers: readonly EventHandlerObject<any>[];
  logger?: Logger;
}

/**
 * A handler is any object with `pattern()` and `handle()` (a class instance keeps its own state
 * fields, so the handler itself is not checked for unknown keys; its `options` are).
 */
const handlerSchema = z.custom<EventHandlerObject<unknown>>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as EventHandlerObject).pattern === "function" &&
    typeof (value as EventHandlerObject).handle === "function",
  "must be an object with pattern() and handle() methods",
);

/** What pattern() returns; the patterns themselves are checked by subscribe (InvalidPatternError). */
const routeSchema = z.object({ system: z.string(), kind: z.string().optional() });

const routerOptionsSchema = z.strictObject({
  handlers: z.array(z.unknown()),
  logger: loggerSchema.optional(),
});

/** Starts one Subscriber per handler; `stop()` closes them all. */
export class EventRouter {
  readonly #subscribers: Subscriber[];

  private constructor(subscribers: Subscriber[]) {
    this.#subscribers = subscribers;
  }

  /** Validates everything before it subscribes anything (InvalidOptionsError naming the option). */
  static async start<C extends CatalogueLike = Untyped>(
    bus: EventBus<C>,
    options: EventRouterOptions,
  ): Promise<EventRouter> {
    assertEventBus(bus);
    const parsed = parseOptions(routerOptionsSchema, options);
    parsed.handlers.forEach((handler, i) => {
      parseOptions(handlerSchema, handler, `options.handlers.${i}`);
      const { options: handlerOptions } = handler as EventHandlerObject;
      if (handlerOptions !== undefined) {
        parseOptions(subscribeOptionsSchema, handlerOptions, `options.handlers.${i}.options`);
      }
    });
    const logger = parsed.logger ?? console;
    const subscribers: Subscriber[] = [];
    try {
      for (const [i, handler] of options.handlers.entries()) {
        const { system, kind } = parseOptions(
          routeSchema,
          handler.pattern(),
          `options.handlers.${i}.pattern()`,
        );
        const subscriber = await Subscriber.start(
          bus as unknown as EventBus,
          system,
          kind,
          (event) => handler.handle(event),
          {
            ...handler.options,
            logger,
          },
        );
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
