import {
  type BusEvent,
  type EventBus,
  type IndexEntry,
  type Subscription,
  SubscriptionIndex,
} from "@threadbus/core";
import { LuaConversionError, luaLiteral, luaString } from "./lua_literal.js";
import type { Envelope, ProcessRecord } from "./process_record.js";

/** What the relay's index holds for one Lua subscription. */
export interface RelayTarget {
  readonly process: ProcessRecord;
  readonly subscription: number;
}

interface RoutePlan {
  readonly checked: readonly IndexEntry<RelayTarget>[];
  readonly byPath: ReadonlyMap<string, readonly IndexEntry<RelayTarget>[]> | null;
}

/** A glob without any glob syntax, which matches exactly itself (verified with the glob too). */
const PLAIN_PATH =
  /^[A-Za-z0-9_\-:=,;@%~][A-Za-z0-9_\-:=,;@%~.]*(\/[A-Za-z0-9_\-:=,;@%~][A-Za-z0-9_\-:=,;@%~.]*)*$/;

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
  readonly #plans = new WeakMap<readonly IndexEntry<RelayTarget>[], RoutePlan>();

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
    if (entries.length === 0) return;
    const plan = this.#planFor(entries);
    let envelope: Envelope | undefined;
    for (const entry of plan.checked) {
      if (entry.path !== null && !entry.path.match(event.path)) continue;
      envelope ??= { event, lua: undefined };
      this.#deliver(entry.value, envelope);
    }
    const exact = plan.byPath?.get(event.path);
    if (exact) {
      envelope ??= { event, lua: undefined };
      for (const entry of exact) this.#deliver(entry.value, envelope);
    }
  }

  #deliver(target: RelayTarget, envelope: Envelope): void {
    target.process.enqueue(target.subscription, envelope);
    this.#onRouted(target.process);
  }

  /**
   * Splits a match result into entries whose path glob is a plain path (looked up by the event's
   * path in a map) and the rest (checked with the compiled glob). 1,000 processes each filtering
   * on its own path cost ~130 µs per event checked one by one. The index returns the same cached
   * array until subscriptions change, so the plan is cached per array.
   */
  #planFor(entries: readonly IndexEntry<RelayTarget>[]): RoutePlan {
    let plan = this.#plans.get(entries);
    if (plan) return plan;
    const checked: IndexEntry<RelayTarget>[] = [];
    let byPath: Map<string, IndexEntry<RelayTarget>[]> | null = null;
    for (const entry of entries) {
      const source = entry.path?.source;
      if (source !== undefined && PLAIN_PATH.test(source) && entry.path!.match(source)) {
        byPath ??= new Map();
        const list = byPath.get(source);
        if (list) list.push(entry);
        else byPath.set(source, [entry]);
      } else checked.push(entry);
    }
    plan = { checked, byPath };
    this.#plans.set(entries, plan);
    return plan;
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
