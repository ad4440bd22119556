import type { BusEvent, Logger } from "@threadbus/core";
import { encodeMessage } from "./envelope.js";
import { OutageBuffer } from "./outage_buffer.js";
import { type ExportStream, type Route, RouteTable } from "./routes.js";

/** What the exporter needs of the connection. */
export interface ExportTransport {
  readonly connected: boolean;
  /** The server's max_payload: a message above it is refused by the client. */
  readonly maxPayload: number;
  /** Hands a message to the client; throws if the client refuses it (closed). */
  publish(subject: string, payload: Uint8Array): void;
}

export interface ExporterOptions {
  readonly origin: string;
  readonly epoch: number;
  readonly prefix: string;
  readonly maxTrackedSubjects: number;
  readonly outageBufferSize: number;
  readonly maxBatchBytes: number;
  readonly logger: Logger;
}

export interface ExportCounters {
  /** Events handed to NATS. */
  exported: number;
  /** Events given up: outage buffer full, unencodable, too large, refused by the client, left at stop. */
  dropped: number;
  /** NATS messages that carried events. */
  messages: number;
  /** Heartbeat messages sent. */
  heartbeats: number;
}

/** A batch never holds more events than this, whatever their size. */
const MAX_BATCH_EVENTS = 4096;
/** Heartbeats per tick at most: with more streams, each is beaten every ceil(streams / this) ticks. */
export const MAX_HEARTBEATS_PER_TICK = 1000;
/** A pessimistic first guess, so a first batch of large events stays small; learnt from then on. */
const INITIAL_BYTES_PER_EVENT = 1024;

/** Routes past the table's capacity are made afresh per event: the same (system, kind) is the same route. */
function sameRoute(route: Route, open: Route | null): boolean {
  if (route === open) return true;
  return open !== null && route.stream === null && route.system === open.system && route.kind === open.kind;
}

/**
 * The export side of a bridge: numbers events per subject, batches runs of consecutive events of
 * one (system, kind) into one message, holds messages during an outage, and sends heartbeats.
 *
 * A batch is open only while the bridge drains what the local bus holds (`add` ... `close`, all
 * synchronous), so batching never delays an event: it leaves as soon as nothing more is ready.
 * A run ends at a change of (system, kind), so messages keep the local order across subjects.
 */
export class Exporter {
  readonly counters: ExportCounters = { exported: 0, dropped: 0, messages: 0, heartbeats: 0 };
  readonly #options: ExporterOptions;
  readonly #transport: ExportTransport;
  readonly #routes: RouteTable;
  readonly #outage: OutageBuffer;
  /** The open batch, flat: path, data, path, data... Reused from batch to batch. */
  readonly #batch: unknown[] = [];
  #route: Route | null = null;
  #count = 0;
  #limit: number;
  #heartbeatCursor = 0;

  constructor(options: ExporterOptions, transport: ExportTransport) {
    this.#options = options;
    this.#transport = transport;
    this.#routes = new RouteTable(options.prefix, options.maxTrackedSubjects);
    this.#outage = new OutageBuffer(options.outageBufferSize);
    this.#limit = this.#limitFor(INITIAL_BYTES_PER_EVENT);
  }

  /** Events held in the outage buffer. */
  get buffered(): number {
    return this.#outage.length;
  }

  /** Adds one event to the open batch (closing it first if the event cannot join it). */
  add(event: BusEvent): void {
    const route = this.#routes.get(event.system, event.kind);
    if (!sameRoute(route, this.#route) || this.#count >= this.#limit) this.close();
    if (!this.#transport.connected && this.#count >= this.#outage.room()) {
      // Refused before it takes a number, so importers see no gap for it: a drop is counted
      // once, here, and never again as "lost" on the far side.
      this.counters.dropped++;
      return;
    }
    this.#route = route;
    this.#batch.push(event.path, event.data);
    this.#count++;
  }

  /** Sends (or holds) the open batch. Called at the end of every drain, before any await. */
  close(): void {
    const route = this.#route;
    if (route === null || this.#count === 0) return;
    this.#emit(route, this.#batch, this.#count);
    this.#batch.length = 0;
    this.#count = 0;
    this.#route = null;
  }

  #emit(route: Route, events: unknown[], count: number): void {
    const stream = route.stream;
    const last = stream === null ? 0 : stream.seq + count;
    const { origin, epoch } = this.#options;
    let payload: Uint8Array;
    try {
      payload = encodeMessage({ origin, epoch, system: route.system, kind: route.kind, last }, events);
    } catch (err) {
      if (count > 1) this.#split(route, events, count);
      else this.#drop(route, events, "its data cannot be encoded", err);
      return;
    }
    const maxPayload = this.#transport.maxPayload;
    if (payload.length > maxPayload) {
      if (count > 1) this.#split(route, events, count);
      else this.#drop(route, events, `it takes ${payload.length} bytes, above max_payload ${maxPayload}`);
      return;
    }
    this.#limit = this.#limitFor(payload.length / count);
    // Numbered only once it is sure to go out (or into the outage buffer): no gap for a drop.
    if (stream !== null) stream.seq = last;
    const message = { subject: route.subject, payload, events: count };
    if (this.#transport.connected) this.#publish(message, stream, last);
    else this.#outage.add(message);
  }

  /** The rare path: a batch too large or holding unencodable data goes out in halves. */
  #split(route: Route, events: unknown[], count: number): void {
    const half = count >>> 1;
    this.#emit(route, events.slice(0, half * 2), half);
    this.#emit(route, events.slice(half * 2, count * 2), count - half);
  }

  #drop(route: Route, events: unknown[], why: string, err?: unknown): void {
    this.counters.dropped++;
    this.#options.logger.warn(
      `@threadbus/nats: dropped ${route.system} ${route.kind} '${String(events[0])}': ${why}`,
      ...(err === undefined ? [] : [err]),
    );
  }

  #limitFor(bytesPerEvent: number): number {
    const fit = Math.floor(this.#options.maxBatchBytes / Math.max(16, bytesPerEvent));
    return Math.max(1, Math.min(MAX_BATCH_EVENTS, fit));
  }

  #publish(
    message: { subject: string; payload: Uint8Array; events: number },
    stream: ExportStream | null,
    last: number,
  ): void {
    try {
      this.#transport.publish(message.subject, message.payload);
      this.counters.exported += message.events;
      this.counters.messages++;
    } catch (err) {
      this.counters.dropped += message.events;
      // Still the newest number: take it back, so importers do not count these events lost too.
      if (stream !== null && stream.seq === last) stream.seq = last - message.events;
      this.#options.logger.warn(`@threadbus/nats: publish to '${message.subject}' refused`, err);
    }
  }

  /** After a reconnect: what the outage buffer held goes out first, in order. Returns how many events. */
  resume(): number {
    const held = this.#outage.takeAll();
    let events = 0;
    for (const message of held) {
      events += message.events;
      this.#publish(message, null, 0);
    }
    return events;
  }

  /** At stop: what is still held is dropped and counted. */
  discardHeld(): void {
    for (const message of this.#outage.takeAll()) this.counters.dropped += message.events;
  }

  /**
   * One heartbeat tick: the last number of up to MAX_HEARTBEATS_PER_TICK streams, round robin, so
   * an importer counts events lost at the end of a stream without waiting for a later event.
   */
  heartbeat(): void {
    if (!this.#transport.connected) return;
    const streams = this.#routes.streams;
    const budget = Math.min(streams.length, MAX_HEARTBEATS_PER_TICK);
    for (let i = 0; i < budget; i++) {
      this.#heartbeatCursor %= streams.length;
      this.#beat(streams[this.#heartbeatCursor++]!);
    }
  }

  /** Every stream's last number, at once: sent by stop() before the connection drains. */
  finalHeartbeats(): void {
    if (!this.#transport.connected) return;
    for (const stream of this.#routes.streams) this.#beat(stream);
  }

  #beat(stream: ExportStream): void {
    if (stream.seq === 0) return;
    const { origin, epoch } = this.#options;
    try {
      const payload = encodeMessage({
        origin,
        epoch,
        system: stream.system,
        kind: stream.kind,
        last: stream.seq,
      });
      this.#transport.publish(stream.subject, payload);
      this.counters.heartbeats++;
    } catch {
      // The next tick tries again; a closed connection is the status loop's business.
    }
  }
}
