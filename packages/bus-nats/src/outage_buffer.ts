/** One message held back while the connection is down: subject, payload, and the events it carries. */
export interface PendingMessage {
  readonly subject: string;
  readonly payload: Uint8Array;
  readonly events: number;
}

/**
 * Messages made while the NATS connection is down, in order, holding at most `capacity` events.
 * The exporter asks `room()` before it numbers an event and drops (and counts) the events that do
 * not fit, so what is kept is always the oldest part of the outage and an importer sees a single
 * gap per subject, not holes.
 */
export class OutageBuffer {
  #items: PendingMessage[] = [];
  #events = 0;
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Events that still fit. */
  room(): number {
    return this.#capacity - this.#events;
  }

  add(item: PendingMessage): void {
    this.#items.push(item);
    this.#events += item.events;
  }

  /** Everything held, oldest first; the buffer is empty afterwards. */
  takeAll(): PendingMessage[] {
    const items = this.#items;
    this.#items = [];
    this.#events = 0;
    return items;
  }

  /** Events held. */
  get length(): number {
    return this.#events;
  }
}
