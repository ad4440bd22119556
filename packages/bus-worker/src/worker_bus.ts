import { randomInt } from "node:crypto";
import { once } from "node:events";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import {
  BusClosedError,
  type CatalogueLike,
  InvalidOptionsError,
  resolveStopOptions,
  type StopOptions,
  type Untyped,
  WorkerFailedError,
} from "@threadbus/core";
import { type Remote, wrap } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";
import type { AdminApi, InspectResult } from "./admin.js";
import { BusClient, type ClientConfig } from "./client.js";
import { clientInspections } from "./client_counters.js";
import {
  CLIENT_FREE,
  DispatcherState,
  kConsumedRecords,
  kDispatcherState,
  kDroppedOnStop,
  kSpaceSeq,
  kStopTimeoutMs,
  sharedLayout,
  writeLayout,
} from "./constants.js";
import { NAME_TABLE_BYTES } from "./names.js";
import { resolveWorkerBusOptions, type WorkerBusOptions } from "./options.js";
import type { ClientMessage, DispatcherWorkerData } from "./protocol.js";
import { kDispatcherWorker } from "./symbols.js";

/**
 * What another thread needs to use the bus: pass it to that thread (workerData or postMessage)
 * with `port` in the transfer list, and call `attach(handle)` there. Each handle is for one
 * thread, once; its slot is given back when that thread detaches or dies (or when `port` is
 * closed unused).
 */
export interface WorkerBusHandle extends ClientConfig {
  port: MessagePort;
}

/** How long after stop's own timeout a dispatcher that has not finished is terminated. */
const STOP_GRACE_MS = 2000;

/**
 * The worker bus: publishers on any thread write events into one SharedArrayBuffer ring; one
 * dispatcher worker drains it in order and copies matched events into each subscription's own
 * shared-memory ring. The same EventBus API and rules as the in-thread Bus.
 */
export class WorkerBus<C extends CatalogueLike = Untyped> extends BusClient<C> {
  readonly #worker: Worker;
  readonly #admin: Remote<AdminApi>;
  readonly #adminPort: MessagePort;
  /** Rejects (BusClosedError, or the failure) once the admin port closed. */
  readonly #adminClosed: Promise<never>;
  #stopPromise: Promise<void> | null = null;
  #unref = false;
  /** inspect() calls waiting for the dispatcher's answer. */
  #inspecting = 0;
  readonly #exited: Promise<void>;

  private constructor(
    config: ClientConfig,
    control: MessagePort,
    worker: Worker,
    admin: MessagePort,
    options: ReturnType<typeof resolveWorkerBusOptions>,
  ) {
    super(config, control, options.logger, options.catalogue);
    this.#worker = worker;
    this.#adminPort = admin;
    this.#admin = wrap<AdminApi>(nodeEndpoint(admin));
    this.#adminClosed = new Promise<never>((_, reject) =>
      admin.once("close", () => reject(this.failure ?? new BusClosedError())),
    );
    this.#adminClosed.catch(() => undefined);
    this.#exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("error", (error) => {
      options.logger.error("threadbus: the dispatcher worker failed", error);
      this.#failed(error);
    });
    worker.once("exit", (code) => {
      if (Atomics.load(this.header, kDispatcherState) === DispatcherState.finished) this.complete();
      else this.#failed(new Error(`the dispatcher worker exited with code ${code}`));
    });
  }

  /** Starts the dispatcher worker; resolves once it runs. Throws InvalidOptionsError for bad options. */
  static start<C extends CatalogueLike>(options: WorkerBusOptions & { events: C }): Promise<WorkerBus<C>>;
  static start(options?: WorkerBusOptions): Promise<WorkerBus>;
  /** With `events`, the bus is typed by that catalogue (see defineEvents in @threadbus/core). */
  static async start<C extends CatalogueLike = Untyped>(options?: WorkerBusOptions): Promise<WorkerBus<C>> {
    const resolved = resolveWorkerBusOptions(options);
    const layout = sharedLayout(
      resolved.ringBytes,
      resolved.maxSubscribers,
      resolved.maxClients,
      NAME_TABLE_BYTES,
    );
    const buffer = new SharedArrayBuffer(layout.byteLength);
    writeLayout(buffer, layout, resolved.unblockAfterMs);
    const nonce = newNonce();
    Atomics.store(new Int32Array(buffer, layout.clientsOffset, resolved.maxClients), 0, -nonce);
    const control = new MessageChannel();
    const admin = new MessageChannel();
    const workerData: DispatcherWorkerData = {
      buffer,
      control: control.port2,
      admin: admin.port2,
      slowSubscriberMs: resolved.slowSubscriberMs,
    };
    const config: ClientConfig = {
      buffer,
      client: 0,
      nonce,
      onFull: resolved.onFull,
      maxWaitMs: resolved.maxWaitMs,
      catalogue: resolved.catalogue.events?.fingerprint(),
      validate: resolved.catalogue.validate,
      uncatalogued: resolved.catalogue.uncatalogued,
    };
    const worker = new Worker(new URL("./dispatcher_worker.js", import.meta.url), {
      workerData,
      transferList: [control.port2, admin.port2],
    });
    let bus: WorkerBus<C>;
    try {
      bus = new WorkerBus<C>(config, control.port1, worker, admin.port1, resolved);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    try {
      await once(worker, "online");
    } catch (error) {
      throw new WorkerFailedError("the dispatcher worker failed to start", { cause: error });
    }
    Atomics.store(bus.header, kDispatcherState, DispatcherState.running);
    return bus;
  }

  /**
   * A handle for one other thread to `attach()` with (transfer `handle.port`). Throws
   * InvalidOptionsError while maxClients threads use the bus, BusClosedError after stop.
   */
  handle(): WorkerBusHandle {
    if (this.failure) throw this.failure;
    if (this.closed) throw new BusClosedError();
    const clients = this.shared.clients;
    const nonce = newNonce();
    let client = -1;
    for (let slot = 1; slot < clients.length; slot++) {
      if (Atomics.compareExchange(clients, slot, CLIENT_FREE, nonce) === CLIENT_FREE) {
        client = slot;
        break;
      }
    }
    if (client < 0)
      throw new InvalidOptionsError(
        `options.maxClients: all ${clients.length} thread slots of this bus are in use (a slot is given back when its thread detaches or dies)`,
        "options.maxClients",
      );
    const channel = new MessageChannel();
    const message: ClientMessage = { type: "client", client, nonce, port: channel.port2 };
    this.control.postMessage(message, [channel.port2]);
    return {
      buffer: this.config.buffer,
      client,
      nonce,
      onFull: this.config.onFull,
      maxWaitMs: this.config.maxWaitMs,
      catalogue: this.config.catalogue,
      validate: this.config.validate,
      uncatalogued: this.config.uncatalogued,
      port: channel.port1,
    };
  }

  /**
   * Subscriptions, threads, ring occupancy, events/s, the slowest subscribers and the match cache,
   * from the dispatcher (over comlink), with the totals and per-thread counters from shared
   * memory: the shape the in-thread Bus's inspect() returns too (BusInspection in @threadbus/core).
   */
  async inspect(): Promise<InspectResult> {
    if (this.failure) throw this.failure;
    if (this.#stopPromise !== null) throw new BusClosedError("bus is closed: inspect() after stop()");
    // An unref'd bus still keeps the process alive while a call waits for its answer.
    this.#inspecting++;
    this.#adminPort.ref();
    let fromDispatcher: Awaited<ReturnType<AdminApi["inspect"]>>;
    try {
      // A call over a closed port is never answered: one the stop (or a failure) cuts short
      // rejects when the admin port closes instead of hanging.
      fromDispatcher = await Promise.race([this.#admin.inspect(), this.#adminClosed]);
    } finally {
      if (--this.#inspecting === 0 && this.#unref) this.#adminPort.unref();
    }
    return {
      ...fromDispatcher,
      stats: this.stats(),
      clients: clientInspections(this.shared, fromDispatcher.subscriptions),
    };
  }

  /**
   * Lets the process exit while the bus runs, as `worker.unref()` does for a worker: the
   * dispatcher thread and the admin port no longer keep the event loop alive. Calls that wait
   * for an answer (subscribe, flush, inspect, a `for await` waiting for events) still do. When
   * nothing else keeps the process alive, it exits without stopping the bus: what is still in the
   * ring is not delivered. For a clean exit, `await bus.stop()`; `unref()` suits a bus that lives
   * as long as the process. `ref()` undoes it.
   */
  unref(): void {
    this.#unref = true;
    this.#worker.unref();
    if (this.#inspecting === 0) this.#adminPort.unref();
  }

  /** Undoes unref(): a running bus keeps the process alive until it is stopped (the default). */
  ref(): void {
    this.#unref = false;
    this.#worker.ref();
    this.#adminPort.ref();
  }

  /**
   * Stops the bus, in order: closed at once (sends return false, subscribes reject), while the
   * dispatcher still delivers everything accepted before the call, then ends every subscription
   * after what it holds. A subscriber that does not read cannot hold it: after `timeoutMs`
   * (default 5000) what is left is dropped and counted in droppedOnStop. Always resolves in
   * bounded time: a dispatcher that has not finished `timeoutMs` + 2 s later is terminated.
   */
  stop(options?: StopOptions): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    let timeoutMs: number;
    try {
      ({ timeoutMs } = resolveStopOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
    this.markClosed();
    Atomics.store(this.header, kStopTimeoutMs, timeoutMs);
    this.ring.close();
    Atomics.add(this.header, kSpaceSeq, 1);
    Atomics.notify(this.header, kSpaceSeq);
    this.#stopPromise = (async () => {
      const timer = setTimeout(
        () => void this.#terminate(),
        Math.min(timeoutMs + STOP_GRACE_MS, 0x7fff_ffff),
      );
      await this.finished();
      if (this.failure === null) Atomics.store(this.header, kDispatcherState, DispatcherState.finished);
      this.#adminPort.close();
      await this.#exited;
      clearTimeout(timer);
    })();
    return this.#stopPromise;
  }

  protected override stopped(): Promise<void> {
    return this.#stopPromise ?? this.finished();
  }

  get [kDispatcherWorker](): Worker {
    return this.#worker;
  }

  /** Stop's last resort: the dispatcher did not finish in time. What it left is counted, then the bus ends. */
  async #terminate(): Promise<void> {
    if (Atomics.load(this.header, kDispatcherState) === DispatcherState.finished) {
      await this.#worker.terminate();
      return;
    }
    Atomics.store(this.header, kDispatcherState, DispatcherState.finished);
    this.logger.error(`threadbus: the dispatcher did not finish within stop's timeout; terminating it`);
    await this.#worker.terminate();
    // The dispatcher is gone, so this thread may write its counters: what it never read is lost.
    const counters = this.shared.counters;
    const stats = this.stats();
    counters[kDroppedOnStop]! += stats.queued;
    counters[kConsumedRecords]! += stats.queued;
    this.complete();
    this.#adminPort.close();
  }

  #failed(cause: unknown): void {
    if (Atomics.load(this.header, kDispatcherState) === DispatcherState.finished) return;
    Atomics.store(this.header, kDispatcherState, DispatcherState.failed);
    this.ring.close();
    this.fail(new WorkerFailedError("dispatcher worker failed", { cause }));
    this.#adminPort.close();
  }
}

/** A random positive Int32: proves a handle came from this bus's handle() (attach checks it). */
function newNonce(): number {
  return randomInt(1, 0x7fff_ffff);
}
