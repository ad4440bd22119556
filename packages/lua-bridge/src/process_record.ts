import type { BusEvent } from "@threadbus/core";

/** One bus event on its way to Lua, shared by every process it is routed to. */
export interface Envelope {
  readonly event: BusEvent;
  /** The event as Lua source, rendered once on first hand-over (lazily: unread events cost nothing). */
  lua: string | undefined;
}

export type ProcessState = "starting" | "live" | "dead";

/**
 * The JS side of a Lua process: its pid, its queue of routed events, its bus subscriptions and
 * its timers. The queue grows without bound: delivery to a process is lossless, and its length
 * is what `host.stats()` reports as `queued`.
 */
export class ProcessRecord {
  state: ProcessState = "starting";
  /** Lua subscription id -> id in the relay's SubscriptionIndex. */
  readonly subscriptions = new Map<number, string>();
  readonly timers = new Map<number, NodeJS.Timeout>();
  /** Set when a pull found nothing: the next routed event must wake the process's waiters. */
  wantsWake = false;
  delivered = 0;
  /** Events routed to a subscription that was closed before the process took them. */
  discarded = 0;
  readonly exited: Promise<unknown>;
  resolveExit!: (value: unknown) => void;
  rejectExit!: (error: Error) => void;

  #subIds: number[] = [];
  #envelopes: Envelope[] = [];
  #head = 0;

  constructor(
    readonly pid: number,
    readonly name: string,
    /** False for processes spawned from Lua: nobody holds `exited`, so failures are logged. */
    readonly observed: boolean,
  ) {
    this.exited = new Promise((resolve, reject) => {
      this.resolveExit = resolve;
      this.rejectExit = reject;
    });
    // Marks the promise handled: a caller who ignores `exited` must not crash the process.
    this.exited.catch(() => {});
  }

  get queued(): number {
    return this.#envelopes.length - this.#head;
  }

  enqueue(subscription: number, envelope: Envelope): void {
    this.#subIds.push(subscription);
    this.#envelopes.push(envelope);
    this.delivered++;
  }

  /**
   * Takes up to `max` events as one Lua chunk `return {sub, event, sub, event, ...}`, skipping
   * (and counting) events of subscriptions closed since they were routed. Undefined if none.
   */
  take(max: number, render: (envelope: Envelope) => string): string | undefined {
    const parts: string[] = [];
    let taken = 0;
    let at = this.#head;
    const end = this.#envelopes.length;
    while (at < end && taken < max) {
      const subscription = this.#subIds[at]!;
      const envelope = this.#envelopes[at]!;
      at++;
      if (!this.subscriptions.has(subscription)) {
        this.discarded++;
        continue;
      }
      parts.push(`${subscription},${render(envelope)}`);
      taken++;
    }
    this.#advance(at);
    return taken === 0 ? undefined : `return {${parts.join(",")}}`;
  }

  /** Drops everything queued (the process ended); returns how many events were dropped. */
  clear(): number {
    const dropped = this.queued;
    this.#subIds = [];
    this.#envelopes = [];
    this.#head = 0;
    return dropped;
  }

  #advance(at: number): void {
    if (at === this.#envelopes.length) {
      this.#subIds.length = 0;
      this.#envelopes.length = 0;
      this.#head = 0;
      return;
    }
    // Release the taken prefix now and then, not on every take (splice is O(n)).
    if (at > 4096 && at * 2 > this.#envelopes.length) {
      this.#subIds.splice(0, at);
      this.#envelopes.splice(0, at);
      at = 0;
    } else {
      for (let i = this.#head; i < at; i++) (this.#envelopes as (Envelope | undefined)[])[i] = undefined;
    }
    this.#head = at;
  }
}
