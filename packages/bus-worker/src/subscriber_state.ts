import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import type { OverflowPolicy } from "@threadbus/core";
import { BatchWriter } from "./batch.js";
import type { EndMessage, SubscriberMessage } from "./protocol.js";

/**
 * The dispatcher's view of one subscription: its port, its credits (events it may still post
 * before the subscriber returns some), its pending batch and its counters.
 */
export class SubscriberState {
  readonly batch = new BatchWriter(1024);
  credits: number;
  delivered = 0;
  dropped = 0;
  /** Set when the subscriber is closing (or stop releases a blocked delivery): post without limit. */
  unlimited = false;
  removed = false;
  /** Called when credits arrive or the port closes, to wake a dispatcher blocked on this subscriber. */
  onChange: (() => void) | null = null;
  readonly #onMessage = (message: SubscriberMessage) => this.#handle(message);

  constructor(
    readonly id: string,
    readonly system: string,
    readonly kind: string,
    readonly client: number,
    readonly slot: number,
    readonly port: MessagePort,
    readonly bufferSize: number,
    readonly overflow: OverflowPolicy,
    onClose: (state: SubscriberState) => void,
  ) {
    // drop-oldest drops on the receiving side, where the oldest events are: the dispatcher posts freely.
    this.credits = overflow === "drop-oldest" ? Number.POSITIVE_INFINITY : bufferSize;
    port.on("message", this.#onMessage);
    port.once("close", () => {
      if (!this.removed) onClose(this);
      this.onChange?.();
    });
  }

  /** True if the subscriber may take one more event now (polling its port once if not). */
  hasRoom(): boolean {
    if (this.credits > 0 || this.unlimited) return true;
    this.poll();
    return this.credits > 0 || this.unlimited;
  }

  /** Takes waiting credit messages without going through the event loop (~0.5 µs vs ~1.5 µs). */
  poll(): void {
    for (;;) {
      const received = receiveMessageOnPortSafe(this.port);
      if (received === undefined) return;
      this.#handle(received.message as SubscriberMessage);
    }
  }

  /** Posts the pending batch as one transferred buffer. */
  flush(): void {
    if (this.batch.count === 0 || this.removed) return;
    const batch = this.batch.take();
    this.port.postMessage(batch, [batch.buffer as ArrayBuffer]);
  }

  end(): void {
    if (this.removed) return;
    this.flush();
    this.removed = true;
    const end: EndMessage = { type: "end", dropped: this.dropped, delivered: this.delivered };
    this.port.postMessage(end);
    this.port.off("message", this.#onMessage);
    this.port.close();
    this.onChange?.();
  }

  #handle(message: SubscriberMessage): void {
    if (message === "closing") this.unlimited = true;
    else this.credits += message;
    this.onChange?.();
  }
}

function receiveMessageOnPortSafe(port: MessagePort): { message: unknown } | undefined {
  try {
    return receiveMessageOnPort(port);
  } catch {
    return undefined;
  }
}
