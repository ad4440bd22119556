import { type BusEvent, type EventBus, type Subscription, SubscriptionIndex } from "@threadbus/core";
import { LuaConversionError, luaLiteral, luaString } from "./lua_literal.js";
import type { Envelope, ProcessRecord } from "./process_record.js";

/** What the relay's index holds for one Lua subscription. */
export interface RelayTarget {
  readonly process: ProcessRecord;
  readonly subscription: number;
}

/**
 * The host's single bus subscription (`**`) and the routing of each event to the Lua
 * subscriptions it matches, with core's SubscriptionIndex: the same matcher as the bus, never a
 * second dialect. Routing only queues the event; it is rendered as Lua when a process takes it.
 */
export class Relay {
  readonly #index = new SubscriptionIndex<RelayTarget>();
  readonly #onRouted: (process: ProcessRecord) => void;
  readonly #onFault: (error: unknown) => void;
  #subscription: Subscription | null = null;
  #routed = 0;
  #unconvertible = 0;
  #pumping: Promise<void> | null = null;

  constructor(onRouted: (process: ProcessRecord) => void, onFault: (error: unknown) => void) {
    this.#onRouted = onRouted;
    this.#onFault = onFault;
  }

  /** Events the relay received from the bus. */
  get routed(): number {
    return this.#routed;
  }

  /** Events whose data could not become Lua (delivered with `data_error` instead of `data`). */
  get unconvertible(): number {
    return this.#unconvertible;
  }

  /** Events the bus has delivered to the relay that it has not routed yet. */
  get backlog(): number {
    return this.#subscription?.stats().buffered ?? 0;
  }

  get subscriptions(): number {
    return this.#index.size;
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

  route(event: BusEvent): void {
    this.#routed++;
    const entries = this.#index.match(event.system, event.kind);
    let envelope: Envelope | undefined;
    for (const entry of entries) {
      if (entry.path !== null && !entry.path.match(event.path)) continue;
      envelope ??= { event, lua: undefined };
      const { process, subscription } = entry.value;
      process.enqueue(subscription, envelope);
      this.#onRouted(process);
    }
  }

  /** The event as a Lua table constructor `{system=..., kind=..., path=..., data=...}`. */
  render = (envelope: Envelope): string => {
    if (envelope.lua !== undefined) return envelope.lua;
    const { system, kind, path, data } = envelope.event;
    let tail = "";
    if (data !== undefined && data !== null) {
      try {
        tail = `,data=${luaLiteral(data)}`;
      } catch (error) {
        if (!(error instanceof LuaConversionError)) throw error;
        this.#unconvertible++;
        tail = `,data_error=${luaString(error.message)}`;
      }
    }
    envelope.lua = `{system=${luaString(system)},kind=${luaString(kind)},path=${luaString(path)}${tail}}`;
    return envelope.lua;
  };

  async #pump(subscription: Subscription): Promise<void> {
    try {
      for await (const event of subscription) this.route(event);
    } catch (error) {
      this.#onFault(error);
    }
  }
}
