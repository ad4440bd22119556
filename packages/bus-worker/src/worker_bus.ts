import { once } from "node:events";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { BusClosedError, InvalidOptionsError, WorkerFailedError } from "@threadbus/core";
import { type Remote, wrap } from "comlink";
import { type AdminApi, type InspectResult, portEndpoint } from "./admin.js";
import { BusClient, type ClientConfig } from "./client.js";
import { clientInspections } from "./client_counters.js";
import {
  DispatcherState,
  kDispatcherState,
  kMaxClients,
  kMaxSubscribers,
  kNextClient,
  sharedLayout,
} from "./constants.js";
import { resolveWorkerBusOptions, type WorkerBusOptions } from "./options.js";
import type { ClientMessage, DispatcherWorkerData } from "./protocol.js";
import { Ring } from "./ring.js";
import { kDispatcherWorker } from "./symbols.js";

/**
 * What another thread needs to use the bus: pass it to that thread (workerData or postMessage)
 * with `port` in the transfer list, and call `attach(handle)` there. Each handle is for one thread.
 */
export interface WorkerBusHandle extends ClientConfig {
  port: MessagePort;
}

/**
 * The worker bus: publishers on any thread write events into one SharedArrayBuffer ring; one
 * dispatcher worker drains it in order and posts matched events, in batches, to each
 * subscription's own MessagePort. The same EventBus API and rules as the in-thread Bus.
 */
export class WorkerBus extends BusClient {
  readonly #worker: Worker;
  readonly #admin: Remote<AdminApi>;
  readonly #adminPort: MessagePort;
  #stopPromise: Promise<void> | null = null;
  readonly #exited: Promise<void>;

  private constructor(
    config: ClientConfig,
    control: MessagePort,
    worker: Worker,
    admin: MessagePort,
    options: ReturnType<typeof resolveWorkerBusOptions>,
  ) {
    super(config, control, options.logger);
    this.#worker = worker;
    this.#adminPort = admin;
    this.#admin = wrap<AdminApi>(portEndpoint(admin));
    this.#exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("error", (error) => {
      options.logger.error("threadbus: the dispatcher worker failed", error);
      this.#failed(error);
    });
    worker.once("exit", (code) => {
      if (Atomics.load(this.header, kDispatcherState) !== DispatcherState.finished)
        this.#failed(new Error(`the dispatcher worker exited with code ${code}`));
    });
  }

  /** Starts the dispatcher worker; resolves once it runs. Throws InvalidOptionsError for bad options. */
  static async start(options?: WorkerBusOptions): Promise<WorkerBus> {
    const resolved = resolveWorkerBusOptions(options);
    const layout = sharedLayout(resolved.ringBytes, resolved.maxSubscribers, resolved.maxClients);
    const buffer = new SharedArrayBuffer(layout.byteLength);
    Ring.initialize(buffer, resolved.ringBytes);
    const header = new Int32Array(buffer, 0, 64);
    Atomics.store(header, kMaxSubscribers, resolved.maxSubscribers);
    Atomics.store(header, kMaxClients, resolved.maxClients);
    const control = new MessageChannel();
    const admin = new MessageChannel();
    const workerData: DispatcherWorkerData = {
      buffer,
      ringOffset: layout.ringOffset,
      countersOffset: layout.countersOffset,
      control: control.port2,
      admin: admin.port2,
      slowSubscriberMs: resolved.slowSubscriberMs,
    };
    const worker = new Worker(new URL("./dispatcher_worker.js", import.meta.url), {
      workerData,
      transferList: [control.port2, admin.port2],
    });
    const config: ClientConfig = {
      buffer,
      ringOffset: layout.ringOffset,
      countersOffset: layout.countersOffset,
      client: 0,
      onFull: resolved.onFull,
      maxWaitMs: resolved.maxWaitMs,
    };
    const bus = new WorkerBus(config, control.port1, worker, admin.port1, resolved);
    try {
      await once(worker, "online");
    } catch (error) {
      throw new WorkerFailedError("the dispatcher worker failed to start", { cause: error });
    }
    Atomics.store(header, kDispatcherState, DispatcherState.running);
    return bus;
  }

  /**
   * A handle for one other thread to `attach()` with (transfer `handle.port`). Throws
   * InvalidOptionsError once maxClients threads use the bus, BusClosedError after stop.
   */
  handle(): WorkerBusHandle {
    if (this.failure) throw this.failure;
    if (this.closed) throw new BusClosedError();
    const client = Atomics.add(this.header, kNextClient, 1) + 1;
    const max = Atomics.load(this.header, kMaxClients);
    if (client >= max)
      throw new InvalidOptionsError(
        `options.maxClients: at most ${max} threads may use this bus`,
        "options.maxClients",
      );
    const channel = new MessageChannel();
    const message: ClientMessage = { type: "client", client, port: channel.port2 };
    this.control.postMessage(message, [channel.port2]);
    return { ...this.config, client, port: channel.port1 };
  }

  /**
   * Subscriptions, ring occupancy, events/s, the slowest subscribers and the match cache, from the
   * dispatcher (over comlink), with the totals and per-thread counters from shared memory: the
   * shape the in-thread Bus's inspect() returns too (see BusInspection in @threadbus/core).
   */
  async inspect(): Promise<InspectResult> {
    if (this.failure) throw this.failure;
    const fromDispatcher = await this.#admin.inspect();
    return {
      ...fromDispatcher,
      stats: this.stats(),
      clients: clientInspections(this.config, this.header, fromDispatcher.subscriptions),
    };
  }

  stop(): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    this.markClosed();
    this.ring.close();
    this.wakeDispatcher();
    this.#stopPromise = (async () => {
      await this.finished();
      if (this.failure === null) Atomics.store(this.header, kDispatcherState, DispatcherState.finished);
      this.#adminPort.close();
      // The worker exits by itself once its ports close; a stuck one must not hold the process.
      const timer = setTimeout(() => void this.#worker.terminate(), 5000);
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

  #failed(cause: unknown): void {
    if (Atomics.load(this.header, kDispatcherState) === DispatcherState.finished) return;
    Atomics.store(this.header, kDispatcherState, DispatcherState.failed);
    this.ring.close();
    this.fail(new WorkerFailedError("dispatcher worker failed", { cause }));
    this.#adminPort.close();
  }
}
