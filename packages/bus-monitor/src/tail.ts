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

/** How long close() waits for the tails' subscriptions to be removed before it goes on without them. */
export const TAIL_CLOSE_WAIT_MS = 2000;

/** Why a tail ended early: its client left, or the monitor is closing (then the request gets 503). */
const CLIENT_LEFT = "the client left";

/**
 * The live tails of one monitor: server-sent event streams, each fed by its own bounded subscription.
 *
 * A tail takes its slot when its request is accepted, before its subscribe is sent, and gives it
 * back only once it has ended: the WorkerBus's subscribe resolves after a round trip through the
 * dispatcher, and a limit checked before it and counted after it let 300 requests written at once
 * open 48-87 tails against a limit of 4.
 */
export class Tails {
  readonly #active = new Map<Subscription, TailCounters>();
  /** Counters of tails that have ended, so the totals never go backwards. */
  readonly #ended: TailCounters = { shown: 0, droppedByBus: 0, sampledOut: 0 };
  /** Every tail from its slot taken to its end, by the controller that ends it early. */
  readonly #running = new Map<AbortController, Promise<void>>();
  #refused = 0;
  #closing = false;

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

  /** Tails holding a slot without streaming: subscribing, or removing their subscription. */
  get opening(): number {
    return this.#running.size - this.#active.size;
  }

  /** Tails refused with 503 because every slot was taken. */
  get refused(): number {
    return this.#refused;
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

  /**
   * Validates the filter (400 on a bad pattern), takes a slot (503 when none is left), subscribes,
   * then streams until either side ends. A client that leaves at any point, mid-subscribe
   * included, ends the tail and removes its subscription.
   */
  async open(filter: TailFilter, response: ServerResponse): Promise<void> {
    Tails.validate(filter);
    if (this.#closing) throw new BusUnavailableError("the monitor is closing");
    if (this.#running.size >= this.max) {
      this.#refused++;
      throw new BusUnavailableError(`at most ${this.max} live tails may stream at once`);
    }
    const end = new AbortController();
    const leave = () => end.abort(CLIENT_LEFT);
    // Listening before anything is awaited: a close event that fired during the subscribe would
    // never come again, and the tail would stream to nobody.
    response.once("close", leave);
    if (response.req.socket.destroyed) leave();
    const run = this.#run(filter, response, end.signal);
    this.#running.set(end, run);
    try {
      await run;
    } finally {
      response.off("close", leave);
      this.#running.delete(end);
    }
  }

  /**
   * Refuses new tails and ends every one, streaming or still subscribing. Settles once their
   * subscriptions are removed, or after TAIL_CLOSE_WAIT_MS: a bus too busy to apply the
   * unsubscribes by then removes them when it can, or when it stops.
   */
  async closeAll(): Promise<void> {
    this.#closing = true;
    const runs = [...this.#running];
    for (const [end] of runs) end.abort(new BusUnavailableError("the monitor closed"));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled(runs.map(([, run]) => run)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, TAIL_CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  async #run(filter: TailFilter, response: ServerResponse, signal: AbortSignal): Promise<void> {
    let subscription: Subscription;
    try {
      // The signal makes the bus drop a subscribe still on its way, or remove what it made.
      subscription = await this.bus.subscribe(filter.system, filter.kind, {
        bufferSize: TAIL_BUFFER,
        overflow: "drop-newest",
        signal,
        ...(filter.path !== undefined ? { path: filter.path } : {}),
      });
    } catch (error) {
      if (signal.aborted) {
        if (signal.reason === CLIENT_LEFT) return;
        throw signal.reason;
      }
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
    try {
      await this.#stream(subscription, counters, response, write, signal);
    } finally {
      clearInterval(statsTimer);
      if (!response.writableEnded) {
        if (this.bus.closed) write("end", { reason: "the bus stopped" });
        response.end();
      }
      await subscription.close().catch(() => undefined);
      counters.droppedByBus = subscription.stats().dropped;
      this.#ended.shown += counters.shown;
      this.#ended.sampledOut += counters.sampledOut;
      this.#ended.droppedByBus += counters.droppedByBus;
      this.#active.delete(subscription);
    }
  }

  async #stream(
    subscription: Subscription,
    counters: TailCounters,
    response: ServerResponse,
    write: (event: string, data: unknown) => boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const next = batches(subscription);
    // Waits end when the tail does: on a saturated WorkerBus the subscription's own end may come
    // late, and a tail with a filter nothing matches would otherwise wait for an event forever.
    const ended = new Promise<null>((resolve) => {
      if (signal.aborted) resolve(null);
      else signal.addEventListener("abort", () => resolve(null), { once: true });
    });
    let seq = 0;
    for (;;) {
      const pending = next();
      const batch = await Promise.race([pending, ended]);
      if (batch === null) {
        // What the subscription hands over after its tail ended was taken, not shown: count it.
        if (signal.aborted)
          void pending.then(
            (late) => {
              if (late !== null) this.#ended.sampledOut += late.length;
            },
            () => undefined,
          );
        return;
      }
      if (signal.aborted || response.destroyed) {
        counters.sampledOut += batch.length;
        return;
      }
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, TAIL_TICK_MS))), ended]);
      clearTimeout(timer);
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
