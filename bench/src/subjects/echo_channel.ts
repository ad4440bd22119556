import { once } from "node:events";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import type { BusEvent } from "@threadbus/core";
import { IN_FLIGHT } from "./publish.js";

/** Something that posts messages to a worker that sends each one straight back. */
export interface Echo {
  post(message: unknown): void;
  onMessage: (message: unknown) => void;
}

/**
 * A worker that posts every message straight back: the naive cross-thread baseline is
 * main -> worker -> main with one postMessage per event (or per hand-made batch of 64).
 */
export class EchoChannel implements Echo {
  readonly worker: Worker;
  readonly #control: MessagePort;
  /** Called for every message coming back. */
  onMessage: (message: unknown) => void = () => {};

  private constructor(worker: Worker, control: MessagePort) {
    this.worker = worker;
    this.#control = control;
    worker.on("message", (message: unknown) => this.onMessage(message));
  }

  static async start(): Promise<EchoChannel> {
    const control = new MessageChannel();
    const worker = new Worker(new URL("../workers/echo.js", import.meta.url), {
      workerData: { control: control.port2 },
      transferList: [control.port2],
    });
    await once(worker, "online");
    return new EchoChannel(worker, control.port1);
  }

  post(message: unknown): void {
    this.worker.postMessage(message);
  }

  /** CPU ms the echo worker's thread has used so far (null where the platform does not say). */
  async cpuMs(): Promise<number | null> {
    const reply = once(this.#control, "message") as Promise<[number | null]>;
    this.#control.postMessage("cpu");
    return (await reply)[0];
  }

  async close(): Promise<void> {
    this.#control.close();
    await this.worker.terminate();
  }
}

/**
 * Sends `count` events through the echo worker and resolves with events/s once the last one is
 * back. `batch` 1 posts each event; 64 posts arrays of 64 (the best hand-written batching). At
 * most IN_FLIGHT events are sent and not yet back; at the limit the publisher waits for half.
 * `read`, when given, is called with every received event's data (the consumer that reads it;
 * structured clone has decoded it either way).
 */
export async function echoThroughput(
  channel: Echo,
  count: number,
  batch: number,
  makeEvent: (seq: number) => BusEvent,
  read?: (data: unknown) => void,
): Promise<number> {
  let received = 0;
  let sent = 0;
  let wakePublisher: (() => void) | null = null;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  channel.onMessage = (message) => {
    if (batch === 1) {
      if (read) read((message as BusEvent).data);
      received++;
    } else {
      const events = message as BusEvent[];
      if (read) for (let i = 0; i < events.length; i++) read(events[i]!.data);
      received += events.length;
    }
    if (received >= count) finished();
    else if (wakePublisher !== null && sent - received <= IN_FLIGHT / 2) {
      const wake = wakePublisher;
      wakePublisher = null;
      wake();
    }
  };
  const started = performance.now();
  while (sent < count) {
    if (sent - received >= IN_FLIGHT) {
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
