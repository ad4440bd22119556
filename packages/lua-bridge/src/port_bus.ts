import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import {
  assertBusEvent,
  BufferedSubscription,
  BusClosedError,
  type BusEvent,
  type BusStats,
  type EventBus,
  MAX_BUFFER_SIZE,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionStats,
} from "@threadbus/core";
import type { BridgeReply, BridgeRequest } from "./port_bridge.js";
import { kLua, kLuaError, type PrerenderedEvent } from "./prerendered.js";
import type { SharedState } from "./shared_state.js";

/**
 * The engine thread's end of a PortBridge: an EventBus whose subscriptions and sends are carried
 * out by the bridge on the host's thread, where the in-thread Bus lives. Only what an engine
 * needs is served: subscribe (with path-less patterns), send, flush, stop. Events arrive already
 * rendered as Lua source, without their data (see prerendered.ts), and only those the engine's
 * processes may want (SharedState.interested).
 */
export class PortBus implements EventBus {
  readonly #port: MessagePort;
  readonly #shared: SharedState;
  readonly #subscriptions = new Map<number, PortSubscription>();
  readonly #waiters = new Map<number, (reply: BridgeReply) => void>();
  #sends: BusEvent[] = [];
  #nextId = 0;
  #sent = 0;
  #stopped = false;

  constructor(port: MessagePort, shared: SharedState) {
    this.#port = port;
    this.#shared = shared;
    port.on("message", (reply: BridgeReply) => this.#handle(reply));
  }

  get closed(): boolean {
    return this.#stopped || this.#shared.busClosed;
  }

  subscribe<D = unknown>(
    system: string,
    kind = "",
    options: SubscribeOptions = {},
  ): Promise<Subscription<D>> {
    if (this.closed) return Promise.reject(new BusClosedError());
    const id = ++this.#nextId;
    const bufferSize = options.bufferSize ?? 1024;
    const overflow = options.overflow ?? "block";
    return new Promise((resolve, reject) => {
      this.#waiters.set(id, (reply) => {
        if (reply.t === "subscribed" && reply.error !== undefined) {
          reject(new BusClosedError(reply.error));
          return;
        }
        const subscription = new PortSubscription(`bridge.${id}`, system, kind, bufferSize, this, id);
        this.#subscriptions.set(id, subscription);
        resolve(subscription as unknown as Subscription<D>);
      });
      this.#request({ t: "sub", id, system, kind, bufferSize, overflow });
    });
  }

  async unsubscribe(id: string): Promise<boolean> {
    for (const [key, subscription] of this.#subscriptions) {
      if (subscription.id === id) {
        await subscription.close();
        this.#subscriptions.delete(key);
        return true;
      }
    }
    return false;
  }

  /** Validates at once (InvalidEventError); the bridge sends it on the host's thread. */
  send<D = unknown>(event: BusEvent<D>): boolean {
    assertBusEvent(event);
    if (this.closed) return false;
    this.#sends.push(event);
    this.#sent++;
    if (this.#sends.length === 1) queueMicrotask(() => this.#flushSends());
    return true;
  }

  flush(): Promise<void> {
    this.#flushSends();
    if (this.#stopped) return Promise.resolve();
    const id = ++this.#nextId;
    return new Promise((resolve) => {
      this.#waiters.set(id, () => resolve());
      this.#request({ t: "flush", id });
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#flushSends();
    this.#stopped = true;
    for (const subscription of this.#subscriptions.values()) subscription.end();
    this.#subscriptions.clear();
    for (const waiter of this.#waiters.values()) waiter({ t: "flushed", id: 0 });
    this.#waiters.clear();
    this.#port.close();
  }

  stats(): BusStats {
    return {
      sent: this.#sent,
      delivered: 0,
      dropped: 0,
      droppedOnStop: 0,
      refused: 0,
      aborted: 0,
      subscriptions: this.#subscriptions.size,
      queued: this.#sends.length,
    };
  }

  /** Takes every message the bridge already posted, synchronously (for exact counts). */
  drain(): void {
    if (this.#stopped) return;
    for (let m = receiveMessageOnPort(this.#port); m !== undefined; m = receiveMessageOnPort(this.#port)) {
      this.#handle(m.message as BridgeReply);
    }
  }

  /** PortSubscription: `n` events were taken; the bridge may forward that many more. */
  credit(id: number, n: number): void {
    this.#request({ t: "credit", id, n });
  }

  /** PortSubscription: closed by the engine. */
  closeSubscription(id: number): void {
    this.#subscriptions.delete(id);
    this.#request({ t: "unsub", id });
  }

  #flushSends(): void {
    if (this.#sends.length === 0) return;
    const events = this.#sends;
    this.#sends = [];
    this.#request({ t: "send", events });
  }

  #request(request: BridgeRequest): void {
    if (!this.#stopped) this.#port.postMessage(request);
  }

  #handle(reply: BridgeReply): void {
    switch (reply.t) {
      case "batch": {
        const subscription = this.#subscriptions.get(reply.id);
        if (!subscription) return;
        const items = reply.items;
        const events: PrerenderedEvent[] = new Array(items.length >>> 2);
        for (let i = 0, e = 0; i < items.length; i += 4, e++) {
          events[e] = { system: items[i]!, kind: items[i + 1]!, path: items[i + 2]!, [kLua]: items[i + 3]! };
        }
        if (reply.errors) for (const [index, reason] of reply.errors) events[index]![kLuaError] = reason;
        subscription.offer(events);
        break;
      }
      case "end":
        this.#subscriptions.get(reply.id)?.end();
        this.#subscriptions.delete(reply.id);
        break;
      case "subscribed":
      case "flushed": {
        const waiter = this.#waiters.get(reply.id);
        this.#waiters.delete(reply.id);
        waiter?.(reply);
        break;
      }
    }
  }
}

/**
 * A subscription fed by the bridge. Its local buffer is unbounded: the bridge never has more
 * than `bufferSize` events in flight beyond what was taken, and credits go back half a window at
 * a time as events are taken.
 */
class PortSubscription implements Subscription {
  readonly #inner: BufferedSubscription;
  readonly #bus: PortBus;
  readonly #bridgeId: number;
  readonly #creditEvery: number;
  #owed = 0;

  constructor(id: string, system: string, kind: string, bufferSize: number, bus: PortBus, bridgeId: number) {
    this.#bus = bus;
    this.#bridgeId = bridgeId;
    this.#creditEvery = Math.max(1, bufferSize >>> 1);
    this.#inner = new BufferedSubscription(
      id,
      system,
      kind,
      { bufferSize: MAX_BUFFER_SIZE, overflow: "block" },
      async () => {
        bus.closeSubscription(bridgeId);
        this.#inner.end();
      },
    );
  }

  get id(): string {
    return this.#inner.id;
  }

  get system(): string {
    return this.#inner.system;
  }

  get kind(): string {
    return this.#inner.kind;
  }

  get closed(): boolean {
    return this.#inner.closed;
  }

  offer(events: BusEvent[]): void {
    for (const event of events) this.#inner.offer(event);
  }

  end(): void {
    this.#inner.end();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Counts events the bridge already posted (taken off the port first). */
  stats(): SubscriptionStats {
    this.#bus.drain();
    return this.#inner.stats();
  }

  async nextBatch(): Promise<BusEvent[] | null> {
    const batch = await this.#inner.nextBatch();
    if (batch !== null) this.#taken(batch.length);
    return batch;
  }

  [Symbol.asyncIterator](): AsyncIterator<BusEvent> {
    const iterator = this.#inner[Symbol.asyncIterator]();
    return {
      next: async () => {
        const result = await iterator.next();
        if (!result.done) this.#taken(1);
        return result;
      },
      return: () => iterator.return!(),
    };
  }

  #taken(n: number): void {
    this.#owed += n;
    if (this.#owed >= this.#creditEvery) {
      this.#bus.credit(this.#bridgeId, this.#owed);
      this.#owed = 0;
    }
  }
}
