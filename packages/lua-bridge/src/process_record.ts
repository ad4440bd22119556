import type { BusEvent, OverflowPolicy } from "@threadbus/core";

/** One bus event on its way to Lua, shared by every process of the engine it is routed to. */
export interface Envelope {
  readonly event: BusEvent;
  /** The event as a Lua table constructor, rendered once on first hand-over (unread events cost nothing). */
  lua: string | undefined;
  /** Why `data` could not become Lua (the event then carries `data_error` instead), once rendered. */
  error: string | undefined;
}

/** How a process's queued events become Lua source (the engine's relay). */
export interface Renderer {
  render(envelope: Envelope): string;
  /** The event with `data_error = reason` and no data: what Lua gets when the data cannot load. */
  renderFailed(envelope: Envelope, reason: string): string;
  /** Counts and logs an event a process got with `data_error` instead of its data. */
  unconvertible(record: ProcessRecord, reason: string): void;
}

/**
 * The engine-side JS state of a Lua process: its queue of routed events, its subscriptions in the
 * relay and its timers. The queue is bounded like a bus subscription's buffer: `capacity` events,
 * then `overflow` applies ("block" makes the relay wait for room). Its length is what
 * `host.stats()` reports as `queued`.
 */
export class ProcessRecord {
  /** Lua subscription id -> its id in the relay's SubscriptionIndex, and its system pattern. */
  readonly subscriptions = new Map<number, { indexId: string; system: string }>();
  readonly timers = new Map<number, NodeJS.Timeout>();
  /** Set when a pull found nothing: the next routed event must wake the process's waiters. */
  wantsWake = false;
  /** Set once the process ended: the relay stops queueing for it. */
  ended = false;
  /** Events placed in the queue. */
  delivered = 0;
  /** Events the overflow policy dropped. */
  dropped = 0;
  /** Events routed to a subscription that was closed before the process took them. */
  discarded = 0;
  /** Events handed over with `data_error` instead of their data. */
  unconvertible = 0;

  #subIds: number[] = [];
  #envelopes: (Envelope | undefined)[] = [];
  #head = 0;
  /** The last batch handed to Lua, kept until the next one in case Lua has to rebuild it. */
  #lastSubIds: number[] = [];
  #lastEnvelopes: Envelope[] = [];
  #roomWaiters: (() => void)[] = [];

  constructor(
    readonly pid: number,
    readonly name: string,
    readonly capacity: number,
    readonly overflow: OverflowPolicy,
  ) {}

  get queued(): number {
    return this.#envelopes.length - this.#head;
  }

  /**
   * Queues an event for a subscription. False only when the queue is full under "block": the
   * caller waits with whenRoom() and offers again. Drops are counted.
   */
  offer(subscription: number, envelope: Envelope): boolean {
    if (this.queued >= this.capacity) {
      if (this.overflow === "block") return false;
      this.dropped++;
      if (this.overflow === "drop-newest") return true;
      this.#envelopes[this.#head] = undefined;
      this.#head++;
      if (this.#head >= 4096 && this.#head * 2 > this.#envelopes.length) this.#compact();
    }
    this.#subIds.push(subscription);
    this.#envelopes.push(envelope);
    this.delivered++;
    return true;
  }

  /** Resolves once the queue has room (at once if it has). */
  whenRoom(): Promise<void> {
    if (this.queued < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /**
   * Takes up to `max` events as one Lua chunk `return {sub, event, sub, event, ...}`, skipping
   * (and counting) events of subscriptions closed since they were routed. Undefined if none.
   */
  take(max: number, renderer: Renderer): string | undefined {
    const parts: string[] = [];
    const subIds: number[] = [];
    const envelopes: Envelope[] = [];
    let at = this.#head;
    const end = this.#envelopes.length;
    while (at < end && envelopes.length < max) {
      const subscription = this.#subIds[at]!;
      const envelope = this.#envelopes[at]!;
      at++;
      if (!this.subscriptions.has(subscription)) {
        this.discarded++;
        continue;
      }
      const lua = renderer.render(envelope);
      if (envelope.error !== undefined) {
        this.unconvertible++;
        renderer.unconvertible(this, envelope.error);
      }
      parts.push(`${subscription},${lua}`);
      subIds.push(subscription);
      envelopes.push(envelope);
    }
    this.#advance(at);
    this.#lastSubIds = subIds;
    this.#lastEnvelopes = envelopes;
    return envelopes.length === 0 ? undefined : `return {${parts.join(",")}}`;
  }

  /** The last batch again, one `sub,event` per line: Lua rebuilds it event by event. */
  retake(renderer: Renderer): string {
    const lines: string[] = [];
    for (let i = 0; i < this.#lastEnvelopes.length; i++) {
      lines.push(`${this.#lastSubIds[i]},${renderer.render(this.#lastEnvelopes[i]!)}`);
    }
    return lines.join("\n");
  }

  /** Event `index` (1-based) of the last batch, which did not load in Lua, with data_error instead. */
  failed(index: number, reason: string, renderer: Renderer): string {
    const envelope = this.#lastEnvelopes[index - 1];
    const subscription = this.#lastSubIds[index - 1];
    if (envelope === undefined || subscription === undefined) return "0,nil";
    const why = `the data could not be loaded into Lua (${reason})`;
    this.unconvertible++;
    renderer.unconvertible(this, why);
    return `${subscription},${renderer.renderFailed(envelope, why)}`;
  }

  /** Drops everything queued (the process ended); returns how many events were dropped. */
  clear(): number {
    const dropped = this.queued;
    this.#subIds = [];
    this.#envelopes = [];
    this.#head = 0;
    this.#lastSubIds = [];
    this.#lastEnvelopes = [];
    this.#wakeRoom();
    return dropped;
  }

  #advance(at: number): void {
    if (at === this.#envelopes.length) {
      this.#subIds.length = 0;
      this.#envelopes.length = 0;
      this.#head = 0;
    } else {
      for (let i = this.#head; i < at; i++) this.#envelopes[i] = undefined;
      this.#head = at;
      if (at >= 4096 && at * 2 > this.#envelopes.length) this.#compact();
    }
    if (this.#roomWaiters.length > 0 && this.queued < this.capacity) this.#wakeRoom();
  }

  /** Releases the consumed prefix: now and then, not on every take (splice is O(n)). */
  #compact(): void {
    this.#subIds.splice(0, this.#head);
    this.#envelopes.splice(0, this.#head);
    this.#head = 0;
  }

  #wakeRoom(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }
}
