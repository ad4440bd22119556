import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import type { BusEvent, Subscription } from "@threadbus/core";
import { decodeEnvelope, encodeEnvelope } from "./envelope.js";
import { NatsConnectError } from "./errors.js";
import {
  type CompiledFilter,
  type NatsBridgeOptions,
  type ResolvedBridgeOptions,
  resolveBridgeOptions,
} from "./options.js";
import { OutageBuffer } from "./outage_buffer.js";
import { RouteTable } from "./routes.js";
import { SequenceTracker } from "./sequence_tracker.js";
import { subjectFor, translateFilter } from "./subject.js";

export interface NatsBridgeStats {
  /** Events handed to NATS (including outage-buffered ones, once sent). */
  exported: number;
  /** Remote events sent on the local bus. */
  imported: number;
  /** Exports dropped: outage buffer full, unencodable data, publish refused, left buffered at stop, or dropped by the export subscription's overflow policy. */
  dropped: number;
  /** Exports held in the outage buffer now. */
  buffered: number;
  /** Remote events announced by a sequence gap and never received (lost between bridges). */
  lost: number;
  /** Remote messages received twice (overlapping import subscriptions) and skipped. */
  duplicates: number;
  /** Remote messages whose system/kind matched an import subject but not an import pattern. */
  filtered: number;
  /** Imports the local bus refused (closed or full). */
  refused: number;
  /** Wire messages that failed to decode or validate, skipped. */
  badMessages: number;
  /** Own messages seen on import and skipped (loop prevention). */
  echoes: number;
  /** Imported events seen again by the export subscription and not sent back (loop prevention). */
  reexportsSkipped: number;
  disconnects: number;
  reconnects: number;
  connected: boolean;
}

type Counters = Omit<NatsBridgeStats, "buffered" | "lost" | "duplicates" | "connected">;

/** Bad messages logged one by one before the log thins out to every 1000th. */
const BAD_MESSAGE_LOG_LIMIT = 10;

function matchesAny(filters: readonly CompiledFilter[], system: string, kind: string): boolean {
  for (const filter of filters) {
    if (filter.system.match(system) && (filter.kind === null || filter.kind.match(kind))) return true;
  }
  return false;
}

/**
 * Bridges a local bus to NATS: exports matching local events to `<prefix>.<system>.<kind>`,
 * imports matching remote events onto the local bus. See README.md for the wire format, the
 * pattern translation, loop prevention and the outage policy.
 */
export class NatsBridge {
  readonly #options: ResolvedBridgeOptions;
  readonly #nc: NatsConnection;
  readonly #routes: RouteTable;
  readonly #tracker: SequenceTracker;
  readonly #outage: OutageBuffer;
  /** Events this bridge sent on the local bus: the export side must not send them back out. */
  readonly #imported = new WeakSet<object>();
  readonly #counters: Counters = {
    exported: 0,
    imported: 0,
    dropped: 0,
    filtered: 0,
    refused: 0,
    badMessages: 0,
    echoes: 0,
    reexportsSkipped: 0,
    disconnects: 0,
    reconnects: 0,
  };
  #connected = true;
  #exportSubscription: Subscription | null = null;
  #exportLoop: Promise<void> = Promise.resolve();
  #statusLoop: Promise<void> = Promise.resolve();
  #exportBusy = false;
  #idleWaiters: (() => void)[] = [];
  #sinceFlush = 0;
  #stopPromise: Promise<void> | null = null;

  private constructor(options: ResolvedBridgeOptions, nc: NatsConnection) {
    this.#options = options;
    this.#nc = nc;
    this.#routes = new RouteTable(options.prefix, options.maxTrackedSubjects);
    this.#tracker = new SequenceTracker(options.maxTrackedSubjects);
    this.#outage = new OutageBuffer(options.outageBufferSize);
  }

  /**
   * Validates the options (InvalidOptionsError, code INVALID_OPTIONS), connects (NatsConnectError,
   * code NATS_CONNECT_FAILED), and resolves once the import subscriptions are registered on the
   * server and the export subscription on the local bus.
   */
  static async start(options: NatsBridgeOptions): Promise<NatsBridge> {
    const resolved = resolveBridgeOptions(options);
    let nc: NatsConnection;
    try {
      nc = await connect({
        name: `threadbus-bridge-${resolved.origin}`,
        // A bridge outlives outages: it keeps trying, and its outage buffer holds what it can.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        ...resolved.connection,
        servers: resolved.servers,
        // Loop prevention, first line: the server never sends this connection its own messages.
        noEcho: true,
      });
    } catch (err) {
      throw new NatsConnectError(resolved.servers, { cause: err });
    }
    const bridge = new NatsBridge(resolved, nc);
    try {
      await bridge.#open();
    } catch (err) {
      await nc.close().catch(() => {});
      throw err;
    }
    return bridge;
  }

  /** This bridge's origin id, tagged on everything it exports. */
  get origin(): string {
    return this.#options.origin;
  }

  stats(): NatsBridgeStats {
    const overflowDrops = this.#exportSubscription?.stats().dropped ?? 0;
    return {
      ...this.#counters,
      dropped: this.#counters.dropped + overflowDrops,
      buffered: this.#outage.length,
      lost: this.#tracker.lost,
      duplicates: this.#tracker.duplicates,
      connected: this.#connected,
    };
  }

  /**
   * Resolves once every local event sent before this call has been exported (or dropped and
   * counted) and, while connected, the server has received it (a NATS round trip).
   */
  async flush(): Promise<void> {
    await this.#options.bus.flush();
    const subscription = this.#exportSubscription;
    if (subscription !== null && (this.#exportBusy || subscription.stats().buffered > 0)) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    if (this.#connected && !this.#nc.isClosed()) await this.#nc.flush().catch(() => {});
  }

  /**
   * Stops the bridge: the export subscription closes and what it buffered is exported, the import
   * subscriptions drain, the connection closes. Exports still in the outage buffer are counted as
   * dropped. Idempotent; the local bus is left running.
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    await this.#exportSubscription?.close();
    await this.#exportLoop;
    this.#counters.dropped += this.#outage.takeAll().length;
    if (this.#connected && !this.#nc.isClosed()) {
      await this.#nc.drain().catch(() => {});
    }
    if (!this.#nc.isClosed()) await this.#nc.close().catch(() => {});
    await this.#statusLoop;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #open(): Promise<void> {
    const { bus, prefix } = this.#options;
    this.#statusLoop = this.#watchStatus();
    const subjects = new Set<string>();
    for (const filter of this.#options.import) {
      const kind = filter.kind === null ? null : [...filter.kind.segments];
      for (const subject of translateFilter(prefix, [...filter.system.segments], kind).subjects) {
        subjects.add(subject);
      }
    }
    const onMessage = (err: Error | null, msg: Msg) => {
      if (err === null) this.#onMessage(msg);
    };
    for (const subject of subjects) this.#nc.subscribe(subject, { callback: onMessage });
    // The round trip makes the server register the subscriptions before start() resolves.
    await this.#nc.flush();
    const exports = this.#options.export;
    if (exports.length === 0) return;
    // One subscription keeps one ordered stream: with one per pattern, an event matching two
    // would go out twice and events of different patterns could leave out of order.
    const single = exports.length === 1 ? exports[0]! : null;
    const subscription = await bus.subscribe(single?.system.source ?? "**", single?.kind?.source ?? "", {
      bufferSize: this.#options.exportBufferSize,
      overflow: this.#options.exportOverflow,
    });
    this.#exportSubscription = subscription;
    this.#exportLoop = this.#runExports(subscription, single === null ? exports : null);
  }

  async #runExports(subscription: Subscription, filters: readonly CompiledFilter[] | null): Promise<void> {
    const iterator = subscription.nextBatch ? null : subscription[Symbol.asyncIterator]();
    const next = async (): Promise<BusEvent[] | null> => {
      if (iterator === null) return (await subscription.nextBatch?.()) ?? null;
      const result = await iterator.next();
      return result.done ? null : [result.value];
    };
    for (;;) {
      this.#exportBusy = false;
      if (subscription.stats().buffered === 0) this.#wakeIdle();
      const batch = await next();
      if (batch === null) break;
      this.#exportBusy = true;
      for (const event of batch) {
        if (this.#imported.has(event)) {
          this.#counters.reexportsSkipped++;
        } else if (filters === null || matchesAny(filters, event.system, event.kind)) {
          this.#export(event);
        }
      }
      if (this.#sinceFlush >= this.#options.flushEvery && this.#connected) {
        this.#sinceFlush = 0;
        // A round trip now and then bounds what sits in client and socket buffers; while we
        // wait, the export subscription fills and its overflow policy applies.
        await this.#nc.flush().catch(() => {});
      }
    }
    this.#exportBusy = false;
    this.#wakeIdle();
  }

  #wakeIdle(): void {
    if (this.#idleWaiters.length === 0) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #export(event: BusEvent): void {
    const route = this.#routes.get(event.system, event.kind);
    if (!this.#connected && this.#outage.length >= this.#options.outageBufferSize) {
      // Refused before it takes a sequence number, so importers see no gap for it: a drop is
      // counted once, here, and never again as "lost" on the far side.
      this.#counters.dropped++;
      return;
    }
    const seq = route.counter === null ? 0 : route.counter.seq + 1;
    let payload: Uint8Array;
    try {
      payload = encodeEnvelope(this.#options.origin, seq, event);
    } catch (err) {
      this.#counters.dropped++;
      this.#options.logger.warn(
        `@threadbus/nats: dropped ${event.system} ${event.kind} '${event.path}': its data cannot be encoded`,
        err,
      );
      return;
    }
    if (route.counter !== null) route.counter.seq = seq;
    if (!this.#connected) {
      this.#outage.offer({ subject: route.subject, payload });
      return;
    }
    this.#publish(route.subject, payload);
  }

  #publish(subject: string, payload: Uint8Array): void {
    try {
      this.#nc.publish(subject, payload);
      this.#counters.exported++;
      this.#sinceFlush++;
    } catch (err) {
      this.#counters.dropped++;
      this.#options.logger.warn(`@threadbus/nats: publish to '${subject}' refused`, err);
    }
  }

  #onMessage(msg: Msg): void {
    const decoded = decodeEnvelope(msg.data);
    if (!decoded.ok) {
      this.#bad(msg.subject, decoded.reason);
      return;
    }
    const envelope = decoded.envelope;
    if (msg.subject !== subjectFor(this.#options.prefix, envelope.system, envelope.kind)) {
      this.#bad(msg.subject, `envelope names ${envelope.system} ${envelope.kind}, which is not this subject`);
      return;
    }
    if (envelope.origin === this.#options.origin) {
      this.#counters.echoes++;
      return;
    }
    if (this.#tracker.observe(envelope.origin, msg.subject, envelope.seq) === "duplicate") return;
    // The subject filter is a superset (see translateFilter): the core matcher decides.
    if (!matchesAny(this.#options.import, envelope.system, envelope.kind)) {
      this.#counters.filtered++;
      return;
    }
    const event: BusEvent = { system: envelope.system, kind: envelope.kind, path: envelope.path };
    if (envelope.data !== undefined) event.data = envelope.data;
    if (this.#exportSubscription !== null) this.#imported.add(event);
    let accepted: boolean;
    try {
      accepted = this.#options.bus.send(event);
    } catch {
      accepted = false;
    }
    if (accepted) this.#counters.imported++;
    else this.#counters.refused++;
  }

  #bad(subject: string, reason: string): void {
    const count = ++this.#counters.badMessages;
    if (count <= BAD_MESSAGE_LOG_LIMIT || count % 1000 === 0) {
      this.#options.logger.warn(
        `@threadbus/nats: skipped a bad message on '${subject}': ${reason} (${count} bad so far)`,
      );
    }
  }

  async #watchStatus(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
        this.#counters.disconnects++;
        this.#options.logger.warn(
          `@threadbus/nats: disconnected from ${status.server}; holding up to ${this.#options.outageBufferSize} exports`,
        );
      } else if (status.type === "reconnect") {
        this.#connected = true;
        this.#counters.reconnects++;
        const held = this.#outage.takeAll();
        this.#options.logger.warn(
          `@threadbus/nats: reconnected to ${status.server}; sending ${held.length} held exports (${this.stats().dropped} dropped so far)`,
        );
        // Synchronously, before the export loop runs again: held exports go out first, in order.
        for (const pending of held) this.#publish(pending.subject, pending.payload);
      } else if (status.type === "close") {
        this.#connected = false;
        break;
      }
    }
  }
}
