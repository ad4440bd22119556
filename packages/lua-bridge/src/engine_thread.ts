import { MessageChannel, type TransferListItem, Worker } from "node:worker_threads";
import type { EventBus, Logger } from "@threadbus/core";
import { taskCpuMs } from "@threadbus/worker/thread-cpu";
import { PortBridge } from "./port_bridge.js";
import type { BusLink, EngineConfig, EngineMessage, EngineWorkerData, HostMessage } from "./protocol.js";
import type { SharedState } from "./shared_state.js";

/** A WorkerBus, recognised by its `handle()` (so the host takes one without importing its class). */
interface HandleSource {
  handle(): { port: import("node:worker_threads").MessagePort } & Record<string, unknown>;
}

function isWorkerBus(bus: EventBus): bus is EventBus & HandleSource {
  return typeof (bus as Partial<HandleSource>).handle === "function";
}

/** Node flags a worker thread refuses in its inherited execArgv. */
const WORKER_REFUSES = ["--input-type", "--eval", "-e", "--print", "-p", "--test", "--watch"];

/**
 * A worker inherits the host's execArgv unless told otherwise, and refuses a few flags there
 * (`node --input-type=module -e ...` has one). Given explicitly, execArgv may hold no V8 flags
 * (they are process-wide anyway), so a host run with a refused flag gives its engines none.
 */
function newWorker(workerData: EngineWorkerData, transferList: TransferListItem[]): Worker {
  const url = new URL("./engine_worker.js", import.meta.url);
  const refused = process.execArgv.some((flag) => WORKER_REFUSES.some((prefix) => flag.startsWith(prefix)));
  return new Worker(url, { workerData, transferList, ...(refused ? { execArgv: [] } : {}) });
}

/** How long close() waits for an engine to shut down cleanly before terminating its thread. */
const CLOSE_TIMEOUT_MS = 2000;

export interface EngineThreadOptions {
  config: EngineConfig;
  bus: EventBus;
  shared: SharedState;
  logger: Logger;
  /** Messages from the engine, in order. */
  onMessages(thread: EngineThread, messages: EngineMessage[]): void;
  /**
   * The thread died or was terminated (not by close()). `culprit` is set by terminate();
   * `started` is false when it failed before it ever ran (then it is `broken`, not restarted).
   */
  onFailed(thread: EngineThread, cause: unknown, culprit: number, started: boolean): void;
}

/**
 * The host's handle on one engine thread: starts the worker and its link to the bus (a WorkerBus
 * handle, or a PortBridge for an in-thread bus), posts messages to it, and reports its death. A
 * thread that fails is replaced by calling start() again.
 */
export class EngineThread {
  readonly index: number;
  readonly #options: EngineThreadOptions;
  #worker: Worker | null = null;
  #bridge: PortBridge | null = null;
  #ready: Promise<void> = Promise.resolve();
  #running = false;
  #closing: Promise<void> | null = null;
  #terminating: { culprit: number; cause: unknown } | null = null;
  #nextSettle = 0;
  readonly #settles = new Map<number, (activity: number) => void>();
  #onClosed: (() => void) | null = null;
  #tid: number | null = null;
  #broken: unknown = null;
  /** Reasons to keep the host's process alive for this engine: its processes, pending requests. */
  #holds = 0;

  constructor(options: EngineThreadOptions) {
    this.#options = options;
    this.index = options.config.index;
  }

  /** Resolves once the current generation's engine runs; rejects if it failed to start. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Why the engine could not start (it is not restarted then), or null. */
  get broken(): unknown {
    return this.#broken;
  }

  /** CPU time (ms) the engine's thread used so far, where the platform tells. */
  cpuMs(): number | null {
    return this.#running && this.#tid !== null ? taskCpuMs(this.#tid) : null;
  }

  /** Events the bus refused from this engine's processes (in-thread bus; a WorkerBus counts its own). */
  get sendRefused(): number {
    return this.#bridge?.refused ?? 0;
  }

  /** True when the bridge has forwarded every event it could (always true for a WorkerBus). */
  get bridgeIdle(): boolean {
    return this.#bridge?.idle ?? true;
  }

  /** Publishes the in-thread bus's `closed` flag to the engines (before a message that may send). */
  syncBus(): void {
    this.#bridge?.sync();
  }

  start(): Promise<void> {
    const { config, bus, shared, logger } = this.#options;
    this.#broken = null;
    // A terminated predecessor may have left its last state behind for the watchdog to find.
    shared.idle(this.index);
    shared.resetInterest(this.index);
    let worker: Worker;
    try {
      let link: BusLink;
      const transfer: TransferListItem[] = [];
      if (isWorkerBus(bus)) {
        // Throws once the bus stopped, or when it has no client slot left (maxClients).
        const handle = bus.handle();
        link = { kind: "worker", handle };
        transfer.push(handle.port);
      } else {
        const channel = new MessageChannel();
        this.#bridge = new PortBridge(bus, channel.port1, shared, this.index, logger);
        link = { kind: "port", port: channel.port2 };
        transfer.push(channel.port2);
      }
      worker = newWorker({ config, shared: shared.buffer, bus: link }, transfer);
    } catch (error) {
      void this.#bridge?.close();
      this.#bridge = null;
      this.#broken = error;
      this.#ready = Promise.reject(error);
      this.#ready.catch(() => {});
      return this.#ready;
    }
    this.#worker = worker;
    this.#terminating = null;
    this.#tid = null;
    let started: () => void;
    let failedToStart: (error: unknown) => void;
    this.#ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failedToStart = reject;
    });
    this.#ready.catch(() => {});
    let lastError: unknown = null;
    worker.on("message", (messages: EngineMessage[]) => {
      if (worker !== this.#worker) return;
      for (const message of messages) {
        if (message.type === "ready") {
          this.#tid = message.tid;
          this.#running = true;
          if (this.#holds === 0) worker.unref();
          started();
        } else if (message.type === "settled") {
          this.#settles.get(message.id)?.(message.activity);
          this.#settles.delete(message.id);
        } else if (message.type === "closed") {
          this.#onClosed?.();
        }
      }
      this.#options.onMessages(this, messages);
    });
    worker.on("error", (error) => {
      lastError = error;
    });
    worker.once("exit", (code) => {
      if (worker !== this.#worker) return;
      const wasRunning = this.#running;
      this.#running = false;
      this.#worker = null;
      const bridge = this.#bridge;
      this.#bridge = null;
      void bridge?.close();
      this.#releaseSettles();
      this.#onClosed?.();
      if (this.#closing) return;
      const cause =
        this.#terminating?.cause ?? lastError ?? new Error(`engine ${this.index} exited with code ${code}`);
      if (!wasRunning) {
        this.#broken = cause;
        failedToStart(cause);
      }
      this.#options.onFailed(this, cause, this.#terminating?.culprit ?? 0, wasRunning);
    });
    return this.#ready;
  }

  post(message: HostMessage): void {
    this.#worker?.postMessage(message);
  }

  /**
   * Keeps the host's process alive while the engine has work: a live process (a running script
   * is work), a request awaiting its answer. An idle engine must not keep a program from exiting.
   */
  hold(): void {
    if (this.#holds++ === 0) this.#worker?.ref();
  }

  release(): void {
    if (--this.#holds === 0 && this.#running) this.#worker?.unref();
  }

  /** Resolves with the engine's activity count once it is quiet (see Engine's settle), or -1. */
  async settle(): Promise<number> {
    await this.#ready.catch(() => {});
    if (!this.#running) return -1;
    const id = ++this.#nextSettle;
    this.hold();
    try {
      return await new Promise((resolve) => {
        this.#settles.set(id, resolve);
        this.post({ type: "settle", id });
      });
    } finally {
      this.release();
    }
  }

  /** Stops a stuck engine at once (the watchdog); onFailed follows with `culprit`. */
  terminate(culprit: number, cause: unknown): void {
    const worker = this.#worker;
    if (!worker || this.#terminating || this.#closing) return;
    this.#terminating = { culprit, cause };
    void worker.terminate();
  }

  /** Asks the engine to close, and terminates it if it does not within a few seconds. */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      const worker = this.#worker;
      if (worker) {
        worker.ref();
        const closed = new Promise<void>((resolve) => {
          this.#onClosed = resolve;
        });
        worker.postMessage({ type: "close" } satisfies HostMessage);
        const timer = setTimeout(() => this.#onClosed?.(), CLOSE_TIMEOUT_MS);
        await closed;
        clearTimeout(timer);
        await worker.terminate();
      }
      this.#running = false;
      this.#releaseSettles();
      await this.#bridge?.close();
      this.#bridge = null;
    })();
    return this.#closing;
  }

  #releaseSettles(): void {
    for (const resolve of this.#settles.values()) resolve(-1);
    this.#settles.clear();
  }
}
