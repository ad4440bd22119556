/** One export held back while the connection is down: the subject and the encoded envelope. */
export interface PendingExport {
  readonly subject: string;
  readonly payload: Uint8Array;
}

/**
 * Exports made while the NATS connection is down, in order, at most `capacity` of them. When full
 * the newest export is refused (the caller counts it as dropped), so what is kept is always the
 * oldest part of the outage and an importer sees a single gap per subject, not holes.
 */
export class OutageBuffer {
  #items: PendingExport[] = [];
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** False when full: the export is refused. */
  offer(item: PendingExport): boolean {
    if (this.#items.length >= this.#capacity) return false;
    this.#items.push(item);
    return true;
  }

  /** Everything held, oldest first; the buffer is empty afterwards. */
  takeAll(): PendingExport[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  get length(): number {
    return this.#items.length;
  }
}
