import type { BusInspection, CatalogueLike, EventBus, InspectableBus, Untyped } from "@threadbus/core";

/**
 * The bus the monitor serves: either bus (both have inspect() and the EventBus API), typed by a
 * catalogue or not. The monitor itself reads events as plain BusEvents.
 */
export type MonitoredBus<C extends CatalogueLike = Untyped> = EventBus<C> & InspectableBus;

/** The bus could not answer (stopped, failed, or too slow): the request gets 503 with this message. */
export class BusUnavailableError extends Error {
  readonly status = 503;
}

/** Requests arriving within this many ms share one inspect() (a page polls several endpoints at once). */
const REUSE_MS = 250;
/** An inspect() that takes longer is answered with 503: a busy dispatcher must not hang the page. */
const INSPECT_TIMEOUT_MS = 2000;

/**
 * Inspections for the endpoints: at most one inspect() in flight, its result reused for
 * REUSE_MS, so any number of open pages costs the dispatcher about one snapshot per interval.
 */
export class Snapshots {
  #last: { at: number; inspection: Promise<BusInspection> } | null = null;

  constructor(readonly bus: MonitoredBus) {}

  get(): Promise<BusInspection> {
    if (this.bus.closed) return Promise.reject(new BusUnavailableError("the bus is stopped"));
    const now = performance.now();
    if (this.#last !== null && now - this.#last.at < REUSE_MS) return this.#last.inspection;
    const inspection = this.#inspect();
    this.#last = { at: now, inspection };
    inspection.catch(() => {
      if (this.#last?.inspection === inspection) this.#last = null;
    });
    return inspection;
  }

  async #inspect(): Promise<BusInspection> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new BusUnavailableError(`the bus did not answer inspect() within ${INSPECT_TIMEOUT_MS} ms`)),
        INSPECT_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([Promise.resolve().then(() => this.bus.inspect()), timeout]);
    } catch (error) {
      if (error instanceof BusUnavailableError) throw error;
      throw new BusUnavailableError(`the bus could not be inspected: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
