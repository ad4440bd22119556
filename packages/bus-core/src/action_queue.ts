import type { BusEvent } from "./event.js";
import type { BufferedSubscription } from "./subscription.js";
import type { IndexEntry } from "./subscription_index.js";

/**
 * Base of every queued action that is not a plain send. Plain sends are queued as the bare event
 * (no wrapper allocated), so the dispatcher tells them apart with one instanceof check.
 */
export abstract class ControlAction {}

/** A send that carries an AbortSignal. */
export class SignalledSend extends ControlAction {
  constructor(
    readonly event: BusEvent,
    readonly signal: AbortSignal,
  ) {
    super();
  }
}

export class SubscribeAction extends ControlAction {
  /** Set when the subscribe's signal aborted before the dispatcher reached it: it is skipped. */
  #cancelled = false;

  constructor(
    readonly entry: IndexEntry<BufferedSubscription>,
    readonly resolve: (subscription: BufferedSubscription) => void,
    readonly reject: (error: unknown) => void,
  ) {
    super();
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Rejects the subscribe now; the dispatcher will skip it, so no subscription is ever made. */
  cancel(error: unknown): void {
    this.#cancelled = true;
    this.reject(error);
  }
}

export class UnsubscribeAction extends ControlAction {
  constructor(
    readonly id: string,
    readonly resolve: (existed: boolean) => void,
  ) {
    super();
  }
}

export class FlushAction extends ControlAction {
  constructor(readonly resolve: () => void) {
    super();
  }
}

/** Applied in order: everything queued before it has been delivered when the dispatcher reaches it. */
export class StopAction extends ControlAction {}

export type Action =
  | BusEvent
  | SignalledSend
  | SubscribeAction
  | UnsubscribeAction
  | FlushAction
  | StopAction;

/**
 * The single action queue of the original design: every mutation goes through it, in arrival
 * order. Enqueue is an array push; the dispatcher takes the whole array at once and hands back an
 * empty spare (double buffering), so a burst costs one swap rather than a shift per action.
 */
export class ActionQueue {
  #pending: Action[] = [];
  #spare: Action[] = [];

  get length(): number {
    return this.#pending.length;
  }

  push(action: Action): void {
    this.#pending.push(action);
  }

  /** Takes every queued action; call `recycle` with the array once it is processed. */
  take(): Action[] {
    const batch = this.#pending;
    this.#pending = this.#spare;
    return batch;
  }

  recycle(batch: Action[]): void {
    batch.length = 0;
    this.#spare = batch;
  }
}
