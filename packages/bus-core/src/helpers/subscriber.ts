import { InvalidOptionsError } from "../errors.js";
import type { BusEvent } from "../event.js";
import { assertEventBus, loggerSchema, parseOptions, subscribeOptionsSchema } from "../options.js";
import type { EventBus, Logger, SubscribeOptions, Subscription } from "../types.js";

export type EventHandler<D = unknown> = (event: BusEvent<D>) => void | Promise<void>;

export interface SubscriberOptions extends SubscribeOptions {
  /** Where handler errors go; default console. */
  logger?: Logger;
}

export const subscriberOptionsSchema = subscribeOptionsSchema.extend({ logger: loggerSchema.optional() });

/**
 * A subscription wrapped in a callback. The handler runs for one event at a time, in delivery
 * order (an async handler is awaited before the next event); a handler that throws is logged and
 * the subscriber goes on, so one bad event never stops the stream.
 */
export class Subscriber<D = unknown> {
  readonly subscription: Subscription<D>;
  /** Resolves when the loop has ended (after close(), bus stop, or the subscription's signal). */
  readonly done: Promise<void>;
  #handled = 0;
  #failed = 0;

  private constructor(subscription: Subscription<D>, handler: EventHandler<D>, logger: Logger) {
    this.subscription = subscription;
    this.done = this.#loop(handler, logger);
  }

  static async start<D = unknown>(
    bus: EventBus,
    system: string,
    kind: string | undefined,
    handler: EventHandler<D>,
    options?: SubscriberOptions,
  ): Promise<Subscriber<D>> {
    assertEventBus(bus);
    if (typeof handler !== "function") {
      throw new InvalidOptionsError(`handler: must be a function, got ${typeof handler}`, "handler");
    }
    const { logger = console, ...subscribeOptions } = parseOptions(subscriberOptionsSchema, options);
    const subscription = await bus.subscribe<D>(system, kind, subscribeOptions);
    return new Subscriber(subscription, handler, logger);
  }

  get id(): string {
    return this.subscription.id;
  }

  /** Events handled, and of those, how many threw. */
  get handled(): number {
    return this.#handled;
  }

  get failed(): number {
    return this.#failed;
  }

  /** Closes the subscription; resolves once the handler loop has ended. */
  async close(): Promise<void> {
    await this.subscription.close();
    await this.done;
  }

  async #loop(handler: EventHandler<D>, logger: Logger): Promise<void> {
    const subscription = this.subscription;
    const fail = (event: BusEvent<D>, error: unknown) => {
      this.#failed++;
      logger.error(
        `threadbus: handler of ${subscription.id} failed on ${event.system} ${event.kind} '${event.path}'`,
        error,
      );
    };
    try {
      if (subscription.nextBatch) {
        // One await per batch instead of one per event; an async handler is still awaited before the next event.
        for (
          let batch = await subscription.nextBatch();
          batch !== null;
          batch = await subscription.nextBatch()
        ) {
          for (const event of batch) {
            this.#handled++;
            try {
              const pending = handler(event);
              if (pending !== undefined) await pending;
            } catch (error) {
              fail(event, error);
            }
          }
        }
        return;
      }
      for await (const event of subscription) {
        this.#handled++;
        try {
          await handler(event);
        } catch (error) {
          fail(event, error);
        }
      }
    } catch (error) {
      // The subscription itself ended with an error (e.g. the dispatcher worker failed).
      logger.error(`threadbus: subscription ${this.subscription.id} ended with an error`, error);
    }
  }
}
