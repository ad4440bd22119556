import { type BusEvent, type EventBus, type Subscription, SubscriptionIndex } from "@threadbus/core";
import { renderEvent, renderFailedEvent } from "./event_literal.js";
import type { Accepts } from "./matching.js";
import { kLua, kLuaError, type PrerenderedEvent } from "./prerendered.js";
import type { Envelope, ProcessRecord, Renderer } from "./process_record.js";

/** What the relay's index holds for one Lua subscription. */
export interface RelayTarget {
  readonly process: ProcessRecord;
  readonly subscription: number;
  /** Wippy's matching rules where the bus pattern is wider (see matching.ts); null: none. */
  readonly accepts: Accepts | null;
}

export interface RelayHooks {
  /** An event was queued for `process` (wake it if it waits). */
  routed(process: ProcessRecord): void;
  /** A process got an event with `data_error` instead of its data (count and log it). */
  unconvertible(process: ProcessRecord, reason: string): void;
  /** Routing runs (for the watchdog): busy() before a stretch of work, idle() after. */
  busy(): void;
  idle(): void;
  fault(error: unknown): void;
}

function envelopeOf(event: PrerenderedEvent): Envelope {
  return { event, lua: event[kLua], error: event[kLuaError] };
}

/**
 * An engine's single bus subscription (`**`) and the routing of each event to the Lua
 * subscriptions of the engine's processes, with core's SubscriptionIndex: the same matcher as the
 * bus, never a second dialect. Routing only queues the event (each process's queue is bounded,
 * with its overflow policy); it is rendered as Lua when a process takes it.
 */
export class Relay implements Renderer {
  readonly #index = new SubscriptionIndex<RelayTarget>();
  readonly #hooks: RelayHooks;
  #subscription: Subscription | null = null;
  #pumping: Promise<void> | null = null;
  #routed = 0;
  #blocked = false;

  constructor(hooks: RelayHooks) {
    this.#hooks = hooks;
  }

  /** Events the relay received from the bus. */
  get routed(): number {
    return this.#routed;
  }

  /** Events the bus has delivered to the relay that it has not routed yet. */
  get backlog(): number {
    return this.#subscription?.stats().buffered ?? 0;
  }

  /** True while the relay waits for room in a full "block" queue. */
  get blocked(): boolean {
    return this.#blocked;
  }

  async start(bus: EventBus, bufferSize: number): Promise<void> {
    const subscription = await bus.subscribe("**", "", { bufferSize, overflow: "block" });
    this.#subscription = subscription;
    this.#pumping = this.#pump(subscription);
  }

  async stop(): Promise<void> {
    const subscription = this.#subscription;
    this.#subscription = null;
    if (subscription) await subscription.close();
    await this.#pumping;
    this.#index.clear();
  }

  /** Throws InvalidPatternError for a bad pattern or glob. `kind` "" means every kind. */
  add(id: string, system: string, kind: string, path: string, target: RelayTarget): void {
    this.#index.add(id, system, kind === "" ? undefined : kind, target, path === "" ? undefined : path);
  }

  remove(id: string): void {
    this.#index.remove(id);
  }

  /**
   * Queues the event for every matching subscription. Returns a promise only when a "block"
   * queue was full: the caller routes nothing else until it resolves (order is kept).
   */
  route(event: BusEvent): Promise<void> | undefined {
    this.#routed++;
    // The index looks the path up (literal paths by hash, literal-prefix globs along a trie), so
    // 1,000 processes each on its own path cost one lookup per event, not 1,000 glob tests.
    const entries = this.#index.route(event.system, event.kind, event.path);
    if (entries.length === 0) return undefined;
    let envelope: Envelope | undefined;
    let waiting: RelayTarget[] | null = null;
    for (let i = 0; i < entries.length; i++) {
      const target = entries[i]!.value;
      const accepts = target.accepts;
      if (accepts !== null && !accepts(event.system, event.kind)) continue;
      envelope ??= envelopeOf(event);
      if (waiting !== null) waiting.push(target);
      else if (!this.#deliver(target, envelope)) waiting = [target];
    }
    return waiting === null ? undefined : this.#deliverWhenRoom(envelope!, waiting);
  }

  #deliver(target: RelayTarget, envelope: Envelope): boolean {
    const record = target.process;
    if (record.ended) return true;
    if (!record.offer(target.subscription, envelope)) return false;
    this.#hooks.routed(record);
    return true;
  }

  async #deliverWhenRoom(envelope: Envelope, targets: RelayTarget[]): Promise<void> {
    this.#blocked = true;
    this.#hooks.idle();
    try {
      for (const target of targets) {
        while (!this.#deliver(target, envelope)) await target.process.whenRoom();
      }
    } finally {
      this.#blocked = false;
      this.#hooks.busy();
    }
  }

  /** The event as a Lua table constructor `{system=..., kind=..., path=..., data=...}`, once. */
  render(envelope: Envelope): string {
    if (envelope.lua !== undefined) return envelope.lua;
    const rendered = renderEvent(envelope.event);
    envelope.lua = rendered.lua;
    envelope.error = rendered.error;
    return rendered.lua;
  }

  renderFailed(envelope: Envelope, reason: string): string {
    const { system, kind, path } = envelope.event;
    return renderFailedEvent(system, kind, path, reason);
  }

  unconvertible(record: ProcessRecord, reason: string): void {
    this.#hooks.unconvertible(record, reason);
  }

  async #pump(subscription: Subscription): Promise<void> {
    const hooks = this.#hooks;
    try {
      if (subscription.nextBatch) {
        for (;;) {
          const batch = await subscription.nextBatch();
          if (batch === null) return;
          hooks.busy();
          try {
            for (const event of batch) {
              const wait = this.route(event);
              if (wait) await wait;
            }
          } finally {
            hooks.idle();
          }
        }
      }
      for await (const event of subscription) {
        hooks.busy();
        try {
          const wait = this.route(event);
          if (wait) await wait;
        } finally {
          hooks.idle();
        }
      }
    } catch (error) {
      hooks.fault(error);
    }
  }
}
