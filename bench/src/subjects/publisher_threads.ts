import { once } from "node:events";
import { type TransferListItem, Worker } from "node:worker_threads";
import type { RunRequest } from "../workers/publisher.js";

const ACK_EVERY = 4096;

/** Publisher worker threads (src/workers/publisher.ts) and the main side of their protocol. */
export class PublisherThreads {
  readonly workers: Worker[];
  /** Events received by the main thread in the current run, per worker (postMessage modes). */
  readonly #received: number[];
  #onEvents: (() => void) | null = null;

  private constructor(workers: Worker[]) {
    this.workers = workers;
    this.#received = workers.map(() => 0);
    workers.forEach((worker, i) => {
      worker.on("message", (message: unknown) => {
        if (typeof message !== "object" || message === null || "error" in message) return;
        const before = this.#received[i]!;
        const after = before + (Array.isArray(message) ? message.length : 1);
        this.#received[i] = after;
        if (Math.floor(after / ACK_EVERY) !== Math.floor(before / ACK_EVERY)) worker.postMessage(after);
        this.#onEvents?.();
      });
    });
  }

  static async start(count: number): Promise<PublisherThreads> {
    const workers = Array.from(
      { length: count },
      () => new Worker(new URL("../workers/publisher.js", import.meta.url)),
    );
    await Promise.all(workers.map((w) => once(w, "online")));
    return new PublisherThreads(workers);
  }

  /**
   * Sends each worker a message (the same one, or one per worker from a function returning the
   * message and what to transfer) and waits for its string answer `expect`; `{ error }` rejects.
   */
  async request(
    message: unknown | ((index: number) => { message: unknown; transfer: TransferListItem[] }),
    expect: string,
  ): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker, i) =>
          new Promise<void>((resolve, reject) => {
            const onMessage = (reply: unknown) => {
              if (reply === expect) {
                worker.off("message", onMessage);
                resolve();
              } else if (typeof reply === "object" && reply !== null && "error" in reply) {
                worker.off("message", onMessage);
                reject(new Error(String(reply.error)));
              }
            };
            worker.on("message", onMessage);
            if (typeof message === "function") {
              const each = message(i);
              worker.postMessage(each.message, each.transfer);
            } else worker.postMessage(message);
          }),
      ),
    );
  }

  /** Runs every worker with `count / workers` events; resolves when all were sent and `received()` says all arrived. */
  async run(request: RunRequest, allArrived: () => Promise<void>): Promise<void> {
    this.#received.fill(0);
    await Promise.all([this.request({ run: request }, "done"), allArrived()]);
  }

  /** For the postMessage modes: resolves once `total` events reached the main thread. */
  receivedAll(total: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.#received.reduce((a, b) => a + b, 0) >= total) {
          this.#onEvents = null;
          resolve();
        }
      };
      this.#onEvents = check;
      check();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
