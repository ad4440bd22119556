import { once } from "node:events";
import { Worker } from "node:worker_threads";

/**
 * A worker that posts every message straight back: the naive cross-thread baseline is
 * main -> worker -> main with one postMessage per event (or per hand-made batch of 64).
 */
export class EchoChannel {
  readonly worker: Worker;
  /** Called for every message coming back. */
  onMessage: (message: unknown) => void = () => {};

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on("message", (message: unknown) => this.onMessage(message));
  }

  static async start(): Promise<EchoChannel> {
    const worker = new Worker(new URL("../workers/echo.js", import.meta.url));
    await once(worker, "online");
    return new EchoChannel(worker);
  }

  post(message: unknown): void {
    this.worker.postMessage(message);
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Events in flight at most: bounds memory like a real publisher would, without starving the pipe. */
const WINDOW = 8192;

/**
 * Sends `count` events through the echo worker and resolves with events/s once the last one is
 * back. `batch` 1 posts each event; 64 posts arrays of 64 (the best hand-written batching).
 */
export async function echoThroughput(
  channel: EchoChannel,
  count: number,
  batch: number,
  makeEvent: (seq: number) => unknown,
): Promise<number> {
  let received = 0;
  let sent = 0;
  let wakePublisher: (() => void) | null = null;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  channel.onMessage = (message) => {
    received += batch === 1 ? 1 : (message as unknown[]).length;
    if (received >= count) finished();
    else if (wakePublisher !== null && sent - received <= WINDOW / 2) {
      const wake = wakePublisher;
      wakePublisher = null;
      wake();
    }
  };
  const started = performance.now();
  while (sent < count) {
    if (sent - received >= WINDOW) {
      await new Promise<void>((resolve) => {
        wakePublisher = resolve;
      });
    }
    if (batch === 1) {
      channel.post(makeEvent(sent++));
    } else {
      const events = new Array(Math.min(batch, count - sent));
      for (let i = 0; i < events.length; i++) events[i] = makeEvent(sent++);
      channel.post(events);
    }
  }
  await done;
  return count / ((performance.now() - started) / 1000);
}
