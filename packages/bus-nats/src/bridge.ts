import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import type { CatalogueLike, Subscription, TypedCatalogue } from "@threadbus/core";
import { newEpoch } from "./envelope.js";
import { NatsConnectError } from "./errors.js";
import { Exporter } from "./exporter.js";
import { Importer } from "./importer.js";
import {
  type BridgePattern,
  type CompiledFilter,
  matchesAny,
  type NatsBridgeOptions,
  type ResolvedBridgeOptions,
  resolveBridgeOptions,
} from "./options.js";
import { translateFilter } from "./subject.js";

export interface NatsBridgeStats {
  /** Events handed to NATS (including outage-buffered ones, once sent). */
  exported: number;
  /** Remote events sent on the local bus. */
  imported: number;
  /** Exports dropped: outage buffer full, unencodable data, above max_payload, publish refused, left buffered at stop, or dropped by the export subscription's overflow policy. */
  dropped: number;
  /** Exports held in the outage buffer now. */
  buffered: number;
  /** Remote events announced by a sequence gap or a heartbeat and not received (lost between bridges). */
  lost: number;
  /** Remote events received twice (overlapping import subscriptions) and skipped. */
  duplicates: number;
  /** Jumps in a remote stream's numbers beyond `sequenceWindow`, each counted once (not in `lost`). */
  resyncs: number;
  /** Remote events whose system/kind matched an import subject but not an import pattern. */
  filtered: number;
  /** Imports the local bus refused (closed or full). */
  refused: number;
  /** Imports whose path or data did not fit the catalogue (option `events`, or the bus's check), skipped. */
  invalid: number;
  /** Wire messages that failed to decode or validate, skipped. */
  badMessages: number;
  /** Own events seen on import and skipped (loop prevention). */
  echoes: number;
  /** Imported events seen again by the export subscription and not sent back (loop prevention). */
  reexportsSkipped: number;
  /** NATS messages that carried exported events (a batch each). */
  messages: number;
  /** Heartbeat messages sent. */
  heartbeats: number;
  disconnects: number;
  reconnects: number;
  connected: boolean;
}

/**
 * Bridges a local bus to NATS: exports matching local events to `<prefix>.<system>.<kind>`,
 * imports matching remote events onto the local bus. See README.md for the wire format, epochs,
 * heartbeats, the pattern translation, loop prevention and the outage policy.
 */
export class NatsBridge {
  readonly #options: ResolvedBridgeOptions;
  readonly #nc: NatsConnection;
  readonly #epoch = newEpoch();
  readonly #exporter: Exporter;
  readonly #importer: Importer;
  /** Events this bridge sent on the local bus: the export side must not send them back out. */
  readonly #imported: WeakSet<object> | null;
  #reexportsSkipped = 0;
  #disconnects = 0;
  #reconnects = 0;
  #connected = true;
  #exportSubscription: Subscription | null = null;
  #exportLoop: Promise<void> = Promise.resolve();
  #statusLoop: Promise<void> = Promise.resolve();
  #heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  #exportBusy = false;
  #idleWaiters: (() => void)[] = [];
  #sinceFlush = 0;
  #stopPromise: Promise<void> | null = null;

  private constructor(options: ResolvedBridgeOptions, nc: NatsConnection) {
    this.#options = options;
    this.#nc = nc;
    const bothWays = options.export.length > 0 && options.import.length > 0;
    this.#imported = bothWays ? new WeakSet() : null;
    const bridge = this;
    this.#exporter = new Exporter(
      { ...options, epoch: this.#epoch },
      {
        get connected() {
          return bridge.#connected;
        },
        get maxPayload() {
          return nc.info?.max_payload ?? 1024 * 1024;
        },
        publish: (subject, payload) => nc.publish(subject, payload),
      },
    );
    this.#importer = new Importer({ ...options, filters: options.import, imported: this.#imported });
  }

  /**
   * Validates the options (InvalidOptionsError, code INVALID_OPTIONS), connects (NatsConnectError,
   * code NATS_CONNECT_FAILED), and resolves once the import subscriptions are registered on the
   * server and the export subscription on the local bus.
   */
  static start(options: NatsBridgeOptions): Promise<NatsBridge>;
  /** On a bus typed by a catalogue, the patterns and `events` are checked against it (see NatsBridgeOptions). */
  static start<
    C extends TypedCatalogue,
    const X extends readonly BridgePattern[] = readonly BridgePattern[],
    const M extends readonly BridgePattern[] = readonly BridgePattern[],
  >(options: NatsBridgeOptions<C, X, M>): Promise<NatsBridge>;
  static async start<C extends CatalogueLike>(
    options: NatsBridgeOptions<C, readonly BridgePattern[], readonly BridgePattern[]>,
  ): Promise<NatsBridge> {
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

  /** This run's epoch: random at start, so a restart under the same origin is a new stream. */
  get epoch(): number {
    return this.#epoch;
  }

  stats(): NatsBridgeStats {
    const exported = this.#exporter.counters;
    const imported = this.#importer.counters;
    const tracker = this.#importer.tracker;
    const overflowDrops = this.#exportSubscription?.stats().dropped ?? 0;
    return {
      exported: exported.exported,
      imported: imported.imported,
      dropped: exported.dropped + overflowDrops,
      buffered: this.#exporter.buffered,
      lost: tracker.lost,
      duplicates: tracker.duplicates,
      resyncs: tracker.resyncs,
      filtered: imported.filtered,
      refused: imported.refused,
      invalid: imported.invalid,
      badMessages: imported.badMessages,
      echoes: imported.echoes,
      reexportsSkipped: this.#reexportsSkipped,
      messages: exported.messages,
      heartbeats: exported.heartbeats,
      disconnects: this.#disconnects,
      reconnects: this.#reconnects,
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
   * Stops the bridge: the export subscription closes and what it buffered is exported, a final
   * heartbeat gives importers every subject's last number, the import subscriptions drain, the
   * connection closes. Exports still in the outage buffer are counted as dropped. Idempotent; the
   * local bus is left running.
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
    await this.#exportSubscription?.close();
    await this.#exportLoop;
    this.#exporter.discardHeld();
    if (this.#connected && !this.#nc.isClosed()) {
      this.#exporter.finalHeartbeats();
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
      if (err === null) this.#importer.onMessage(msg.subject, msg.data);
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
    this.#heartbeatTimer = setInterval(() => this.#exporter.heartbeat(), this.#options.heartbeatMs);
    // The connection keeps the process alive while the bridge runs; the timer need not.
    this.#heartbeatTimer.unref();
  }

  async #runExports(subscription: Subscription, filters: readonly CompiledFilter[] | null): Promise<void> {
    const iterator = subscription.nextBatch ? null : subscription[Symbol.asyncIterator]();
    const next = async () => {
      if (iterator === null) return (await subscription.nextBatch?.()) ?? null;
      const result = await iterator.next();
      return result.done ? null : [result.value];
    };
    const exporter = this.#exporter;
    const imported = this.#imported;
    for (;;) {
      this.#exportBusy = false;
      if (subscription.stats().buffered === 0) this.#wakeIdle();
      const batch = await next();
      if (batch === null) break;
      this.#exportBusy = true;
      for (const event of batch) {
        if (imported?.has(event)) {
          this.#reexportsSkipped++;
        } else if (filters === null || matchesAny(filters, event.system, event.kind)) {
          exporter.add(event);
        }
      }
      // Nothing waits for a fuller batch: what this drain gathered leaves now.
      exporter.close();
      this.#sinceFlush += batch.length;
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

  async #watchStatus(): Promise<void> {
    const { logger, outageBufferSize } = this.#options;
    for await (const status of this.#nc.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
        this.#disconnects++;
        logger.warn(
          `@threadbus/nats: disconnected from ${status.server}; holding up to ${outageBufferSize} exports`,
        );
      } else if (status.type === "reconnect") {
        this.#connected = true;
        this.#reconnects++;
        // Synchronously, before the export loop runs again: held exports go out first, in order.
        const held = this.#exporter.resume();
        logger.warn(
          `@threadbus/nats: reconnected to ${status.server}; sent ${held} held exports (${this.stats().dropped} dropped so far)`,
        );
      } else if (status.type === "close") {
        this.#connected = false;
        break;
      }
    }
  }
}
