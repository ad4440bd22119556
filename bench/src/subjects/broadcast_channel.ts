import { once } from "node:events";
import { BroadcastChannel, Worker } from "node:worker_threads";
import type { Echo } from "./echo_channel.js";

let channels = 0;

/**
 * Node's BroadcastChannel as a user picks it for cross-thread pub/sub: main posts on one named
 * channel, an echo worker posts every message back on another. Every receiver decodes every
 * message (structured clone), one message per event, or per hand-made batch.
 */
export class BroadcastEcho implements Echo {
  readonly #worker: Worker;
  readonly input: BroadcastChannel;
  readonly output: BroadcastChannel;
  onMessage: (message: unknown) => void = () => {};

  private constructor(worker: Worker, name: string) {
    this.#worker = worker;
    this.input = new BroadcastChannel(`${name}:in`);
    this.output = new BroadcastChannel(`${name}:out`);
    this.output.onmessage = (message: unknown) => this.onMessage((message as { data: unknown }).data);
  }

  post(message: unknown): void {
    this.input.postMessage(message);
  }

  static async start(): Promise<BroadcastEcho> {
    const name = `threadbus-bench-${process.pid}-${++channels}`;
    const worker = new Worker(new URL("../workers/broadcast_echo.js", import.meta.url), {
      workerData: { name },
    });
    await once(worker, "online");
    // The worker's channels exist once its module ran: a round trip proves it.
    const echo = new BroadcastEcho(worker, name);
    for (;;) {
      const back = new Promise<boolean>((resolve) => {
        echo.onMessage = () => resolve(true);
        setTimeout(() => resolve(false), 20);
      });
      echo.post("ping");
      if (await back) break;
    }
    echo.onMessage = () => {};
    return echo;
  }

  async close(): Promise<void> {
    this.input.close();
    this.output.close();
    await this.#worker.terminate();
  }
}
