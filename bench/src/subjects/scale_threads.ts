import { MessageChannel, type TransferListItem, Worker } from "node:worker_threads";
import type { WorkerBus } from "@threadbus/worker";
import type { ScaleEnvelope, ScaleReply, ScaleRequest } from "./scale_event.js";

/** A run that takes longer than this failed: the bench reports it instead of hanging. */
const REQUEST_TIMEOUT_MS = 120_000;

/**
 * The P publisher and S subscriber worker threads of scenario j-scale, and the main side of their
 * protocol (src/workers/scale_publisher.ts, scale_subscriber.ts). The same threads serve either
 * subject: attached to a WorkerBus, or connected to each other by one MessageChannel per
 * (publisher, subscriber) pair for the hand-written fan-out.
 */
export class ScaleThreads {
  readonly publishers: Worker[];
  readonly subscribers: Worker[];
  /** Events every subscriber has received in total, over all runs. */
  #delivered = 0;

  private constructor(publishers: Worker[], subscribers: Worker[]) {
    this.publishers = publishers;
    this.subscribers = subscribers;
  }

  static async start(publishers: number, subscribers: number): Promise<ScaleThreads> {
    const spawn = (file: string, index: number) =>
      new Worker(new URL(`../workers/${file}`, import.meta.url), { workerData: { index } });
    const threads = new ScaleThreads(
      Array.from({ length: publishers }, (_, i) => spawn("scale_publisher.js", i)),
      Array.from({ length: subscribers }, (_, i) => spawn("scale_subscriber.js", i)),
    );
    try {
      await Promise.all(
        [...threads.publishers, ...threads.subscribers].map(
          (worker) =>
            new Promise<void>((resolve, reject) => {
              worker.once("online", resolve);
              worker.once("error", reject);
            }),
        ),
      );
    } catch (error) {
      await threads.close();
      throw error;
    }
    return threads;
  }

  /**
   * Every thread attach()es to `bus` (one handle each); subscribers subscribe to orders.created.
   * `catalogued`: the bus was started with scaleEvents, and every thread attaches with it.
   */
  async attach(bus: WorkerBus, catalogued = false): Promise<void> {
    // Subscribers first: every event sent afterwards reaches every subscriber.
    for (const group of [this.subscribers, this.publishers]) {
      await Promise.all(
        group.map((worker) => {
          const handle = bus.handle();
          return request(worker, { type: "attach", handle, catalogued }, [handle.port]);
        }),
      );
    }
  }

  /** The hand-written fan-out: a MessageChannel per (publisher, subscriber) pair. */
  async connect(): Promise<void> {
    const channels = this.publishers.map(() => this.subscribers.map(() => new MessageChannel()));
    await Promise.all([
      ...this.publishers.map((worker, p) => {
        const ports = channels[p]!.map((c) => c.port1);
        return request(worker, { type: "connect", ports }, ports);
      }),
      ...this.subscribers.map((worker, s) => {
        const ports = channels.map((row) => row[s]!.port2);
        return request(worker, { type: "connect", ports }, ports);
      }),
    ]);
  }

  /** The BroadcastChannel peer: every thread opens channel `name` (see ScaleRequest "broadcast"). */
  async broadcast(name: string): Promise<void> {
    const subscribers = this.subscribers.length;
    await Promise.all([
      ...this.subscribers.map((worker, s) =>
        request(worker, { type: "broadcast", name, subscribers, subscriber: s }),
      ),
      ...this.publishers.map((worker) =>
        request(worker, { type: "broadcast", name, subscribers, subscriber: -1 }),
      ),
    ]);
  }

  /**
   * Each publisher sends `perPublisher` events; resolves once every subscriber received every
   * event of the run (and found each publisher's events in order), or rejects naming what failed.
   */
  async run(perPublisher: number, body: string): Promise<void> {
    this.#delivered += perPublisher * this.publishers.length;
    const total = this.#delivered;
    await Promise.all([
      ...this.subscribers.map((worker) => request(worker, { type: "until", total })),
      ...this.publishers.map((worker) => request(worker, { type: "run", count: perPublisher, body })),
    ]);
  }

  /** Attached threads detach from the bus (their subscriptions close) before the bus stops. */
  async detach(): Promise<void> {
    await Promise.all(
      [...this.subscribers, ...this.publishers].map((worker) => request(worker, { type: "detach" })),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.publishers, ...this.subscribers].map((worker) => worker.terminate()));
  }
}

let nextId = 0;

/** Posts one request and waits for its answer; a worker error, exit or timeout rejects. */
function request(worker: Worker, message: ScaleRequest, transfer: TransferListItem[] = []): Promise<void> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      if (error) reject(error);
      else resolve();
    };
    const onMessage = (reply: ScaleReply) => {
      if (reply.id !== id) return;
      settle(reply.error === undefined ? undefined : new Error(`j-scale worker: ${reply.error}`));
    };
    const onError = (error: Error) => settle(error);
    const onExit = (code: number) => settle(new Error(`j-scale worker exited with code ${code}`));
    const timer = setTimeout(
      () => settle(new Error(`j-scale worker: no answer to "${message.type}" in ${REQUEST_TIMEOUT_MS} ms`)),
      REQUEST_TIMEOUT_MS,
    );
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    const envelope: ScaleEnvelope = { id, request: message };
    worker.postMessage(envelope, transfer);
  });
}
