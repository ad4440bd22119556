import type { ServerResponse } from "node:http";
import {
  type BusEvent,
  compilePathFilter,
  compilePattern,
  type EventBus,
  InvalidPatternError,
  type Subscription,
} from "@threadbus/core";
import { QueryError } from "./query.js";
import { BusUnavailableError } from "./snapshot.js";

/**
 * The tail's subscription buffer: small, "drop-newest". While the tail sleeps between ticks the
 * buffer fills and the bus drops (and counts) what does not fit, so once full a tail costs the
 * dispatcher a failed room check and a counter per matching event, and can never block it.
 */
export const TAIL_BUFFER = 64;
/** The tail takes what its buffer holds this often: the sampling interval. */
export const TAIL_TICK_MS = 200;
/** Events written to the browser per tick at most (100/s): more is skipped and counted. */
export const TAIL_EVENTS_PER_TICK = 20;
/** A payload is cut to this many characters of JSON in the tail. */
const DATA_CHARS = 2048;

export interface TailFilter {
  system: string;
  kind: string;
  path: string | undefined;
}

/** What a tail has done, sent to the browser every second as a "stats" event. */
export interface TailCounters {
  /** Events written to the browser. */
  shown: number;
  /** Matching events the bus dropped because the tail's buffer was full (counted by the bus too). */
  droppedByBus: number;
  /** Events the tail took but did not write (over the per-tick limit, or the browser was not reading). */
  sampledOut: number;
}

/** The live tails of one monitor: server-sent event streams, each fed by its own bounded subscription. */
export class Tails {
  readonly #active = new Map<Subscription, TailCounters>();
  /** Counters of tails that have ended, so the totals never go backwards. */
  readonly #ended: TailCounters = { shown: 0, droppedByBus: 0, sampledOut: 0 };

  constructor(
    readonly bus: EventBus,
    readonly showData: boolean,
    readonly max: number,
  ) {}

  /** Subscription ids of the tails streaming now (the subscriptions table labels them). */
  ids(): Set<string> {
    return new Set([...this.#active.keys()].map((s) => s.id));
  }

  get streaming(): number {
    return this.#active.size;
  }

  /** Every tail's counters summed, live and ended. */
  totals(): TailCounters {
    const total = { ...this.#ended };
    for (const [subscription, counters] of this.#active) {
      total.shown += counters.shown;
      total.sampledOut += counters.sampledOut;
      total.droppedByBus += subscription.stats().dropped;
    }
    return total;
  }

  /** Throws a QueryError (400) for a filter the bus would refuse. */
  static validate(filter: TailFilter): void {
    try {
      compilePattern(filter.system);
      if (filter.kind !== "") compilePattern(filter.kind);
      if (filter.path !== undefined) compilePathFilter(filter.path);
    } catch (error) {
      if (error instanceof InvalidPatternError) throw new QueryError(`bad tail filter: ${error.message}`);
      throw error;
    }
  }

  /** Validates the filter (400 on a bad pattern), subscribes, then streams until either side ends. */
  async open(filter: TailFilter, response: ServerResponse): Promise<void> {
    Tails.validate(filter);
    if (this.#active.size >= this.max)
      throw new BusUnavailableError(`at most ${this.max} live tails may stream at once`);
    let subscription: Subscription;
    try {
      subscription = await this.bus.subscribe(filter.system, filter.kind, {
        bufferSize: TAIL_BUFFER,
        overflow: "drop-newest",
        ...(filter.path !== undefined ? { path: filter.path } : {}),
      });
    } catch (error) {
      throw new BusUnavailableError(`the tail could not subscribe: ${(error as Error).message}`);
    }
    const counters: TailCounters = { shown: 0, droppedByBus: 0, sampledOut: 0 };
    this.#active.set(subscription, counters);
    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    const write = (event: string, data: unknown) =>
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    write("hello", {
      subscription: subscription.id,
      filter,
      showData: this.showData,
      sampling: { buffer: TAIL_BUFFER, tickMs: TAIL_TICK_MS, eventsPerTick: TAIL_EVENTS_PER_TICK },
    });
    const sendStats = () => {
      counters.droppedByBus = subscription.stats().dropped;
      write("stats", counters);
    };
    const statsTimer = setInterval(sendStats, 1000);
    // The response closes when the browser goes away (or the server closes): end the tail then.
    const closeSubscription = () => void subscription.close();
    response.once("close", closeSubscription);
    try {
      await this.#stream(subscription, counters, response, write);
    } finally {
      clearInterval(statsTimer);
      response.off("close", closeSubscription);
      await subscription.close().catch(() => undefined);
      counters.droppedByBus = subscription.stats().dropped;
      this.#ended.shown += counters.shown;
      this.#ended.sampledOut += counters.sampledOut;
      this.#ended.droppedByBus += counters.droppedByBus;
      this.#active.delete(subscription);
      if (!response.writableEnded) {
        if (this.bus.closed) write("end", { reason: "the bus stopped" });
        response.end();
      }
    }
  }

  /** Ends every tail (their streams close, their subscriptions are removed). */
  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.#active.keys()].map((subscription) => subscription.close().catch(() => undefined)),
    );
  }

  async #stream(
    subscription: Subscription,
    counters: TailCounters,
    response: ServerResponse,
    write: (event: string, data: unknown) => boolean,
  ): Promise<void> {
    const next = batches(subscription);
    let seq = 0;
    for (;;) {
      const batch = await next();
      if (batch === null || response.destroyed) return;
      let room = TAIL_EVENTS_PER_TICK;
      for (const event of batch) {
        // A browser that does not read its stream is skipped, never buffered for.
        if (room === 0 || response.writableNeedDrain) {
          counters.sampledOut++;
          continue;
        }
        room--;
        counters.shown++;
        write("bus", this.#view(event, ++seq));
      }
      await new Promise((resolve) => setTimeout(resolve, TAIL_TICK_MS));
    }
  }

  #view(event: BusEvent, seq: number): Record<string, unknown> {
    const view: Record<string, unknown> = {
      seq,
      t: Date.now(),
      system: event.system,
      kind: event.kind,
      path: event.path,
    };
    if (event.data === undefined) return view;
    if (!this.showData) {
      view.dataHidden = true;
      return view;
    }
    let json: string;
    try {
      json =
        JSON.stringify(event.data, (_key, value: unknown) =>
          typeof value === "bigint" ? `${value}n` : value,
        ) ?? "null";
    } catch {
      json = JSON.stringify("[payload not representable as JSON]");
    }
    view.data =
      json.length > DATA_CHARS
        ? `${json.slice(0, DATA_CHARS)}… (${json.length} characters)`
        : JSON.parse(json);
    return view;
  }
}

/** Every buffered event at once: the subscription's nextBatch() where it has one, else one by one. */
function batches(subscription: Subscription): () => Promise<BusEvent[] | null> {
  if (subscription.nextBatch) return () => subscription.nextBatch!();
  const iterator = subscription[Symbol.asyncIterator]();
  return async () => {
    const result = await iterator.next();
    return result.done ? null : [result.value];
  };
}
