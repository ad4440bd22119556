import type { CatalogueLike, SubscribedEvent, Untyped } from "../catalogue_types.js";
import { InvalidOptionsError } from "../errors.js";
import type { BusEvent } from "../event.js";
import { assertEventBus, loggerSchema, parseOptions, subscribeOptionsSchema } from "../options.js";
import type { EventBus, Logger, SubscribeOptions, Subscription } from "../types.js";

export type EventHandler<D = unknown, E extends BusEvent<unknown> = BusEvent<D>> = (
  event: E,
) => void | Promise<void>;

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
export class Subscriber<D = unknown, E extends BusEvent<unknown> = BusEvent<D>> {
  readonly subscription: Subscription<D, E>;
  /** Resolves when the loop has ended (after close(), bus stop, or the subscription's signal). */
  readonly done: Promise<void>;
  #handled = 0;
  #failed = 0;

  private constructor(subscription: Subscription<D, E>, handler: EventHandler<D, E>, logger: Logger) {
    this.subscription = subscription;
    this.done = this.#loop(handler, logger);
  }

  /**
   * On a bus typed by a catalogue, the handler's event is the union of the catalogued events the
   * patterns match (see SubscribedEvent).
   */
  static async start<
    D = unknown,
    C extends CatalogueLike = Untyped,
    S extends string = string,
    K extends string = string,
  >(
    bus: EventBus<C>,
    system: S,
    kind: K | undefined,
    handler: EventHandler<D, SubscribedEvent<C, S, K, D>>,
    options?: SubscriberOptions,
  ): Promise<Subscriber<D, SubscribedEvent<C, S, K, D>>> {
    assertEventBus(bus);
    if (typeof handler !== "function") {
      throw new InvalidOptionsError(`handler: must be a function, got ${typeof handler}`, "handler");
    }
    const { logger = console, ...subscribeOptions } = parseOptions(subscriberOptionsSchema, options);
    const untyped = bus as unknown as EventBus;
    const subscription = (await untyped.subscribe<D>(
      system,
      kind,
      subscribeOptions,
    )) as unknown as Subscription<D, SubscribedEvent<C, S, K, D>>;
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

  async #loop(handler: EventHandler<D, E>, logger: Logger): Promise<void> {
    const subscription = this.subscription;
    const fail = (event: E, error: unknown) => {
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
