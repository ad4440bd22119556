import {
  PAD,
  POSITION_MASK,
  RING_CAPACITY,
  RING_HEADER_BYTES,
  RING_READ_POSITION,
  RING_WRITE_POSITION,
} from "../shm/delivery_layout.js";

/**
 * The mechanics of a single-producer, single-consumer byte ring in a SharedArrayBuffer, and
 * nothing about what the bytes mean (delivery/entries.ts does). Entries are contiguous and
 * 4-byte aligned: one that would cross the end of the ring leaves a PAD word and starts again at
 * position 0. The producer caches the consumer's position and re-reads it only when the cache
 * says "full" (Agrona's head cache).
 */

/** Creates a ring of `capacity` bytes (a power of two) behind its header. */
export function createSpscRing(capacity: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
  new Int32Array(buffer, 0, RING_HEADER_BYTES >> 2)[RING_CAPACITY] = capacity;
  return buffer;
}

interface RingViews {
  header: Int32Array;
  words: Int32Array;
  bytes: Buffer;
  capacity: number;
}

function ringViews(buffer: SharedArrayBuffer): RingViews {
  const header = new Int32Array(buffer, 0, RING_HEADER_BYTES >> 2);
  const capacity = Atomics.load(header, RING_CAPACITY);
  return {
    header,
    words: new Int32Array(buffer, RING_HEADER_BYTES, capacity >> 2),
    bytes: Buffer.from(buffer, RING_HEADER_BYTES, capacity),
    capacity,
  };
}

/** The producer's end. Only the dispatcher thread calls it. */
export class SpscWriter {
  readonly header: Int32Array;
  readonly words: Int32Array;
  readonly capacity: number;
  readonly #mask: number;
  #position = 0;
  #readSeen = 0;

  constructor(buffer: SharedArrayBuffer) {
    const views = ringViews(buffer);
    this.header = views.header;
    this.words = views.words;
    this.capacity = views.capacity;
    this.#mask = this.capacity - 1;
  }

  /**
   * Reserves `bytes` contiguous bytes (a multiple of 4), padding over the rest of the lap if they
   * would cross the end; returns their word index in `words`, or -1 if there is no room now.
   * `commit` must follow before the next claim.
   */
  claim(bytes: number): number {
    const at = this.#position & this.#mask;
    const toEnd = this.capacity - at;
    const needed = bytes > toEnd ? bytes + toEnd : bytes;
    if (((this.#position - this.#readSeen) & POSITION_MASK) + needed > this.capacity) {
      this.#readSeen = Atomics.load(this.header, RING_READ_POSITION);
      if (((this.#position - this.#readSeen) & POSITION_MASK) + needed > this.capacity) return -1;
    }
    if (bytes > toEnd) {
      this.words[at >> 2] = PAD;
      this.#position = (this.#position + toEnd) & POSITION_MASK;
      return 0;
    }
    return at >> 2;
  }

  /** True if `bytes` would fit now (re-reading the consumer's position). */
  fits(bytes: number): boolean {
    const toEnd = this.capacity - (this.#position & this.#mask);
    const needed = bytes > toEnd ? bytes + toEnd : bytes;
    this.#readSeen = Atomics.load(this.header, RING_READ_POSITION);
    return ((this.#position - this.#readSeen) & POSITION_MASK) + needed <= this.capacity;
  }

  commit(bytes: number): void {
    this.#position = (this.#position + bytes) & POSITION_MASK;
  }

  /** Makes every committed entry visible to the consumer. */
  publish(): void {
    Atomics.store(this.header, RING_WRITE_POSITION, this.#position);
  }
}

/** What the consumer copied out: the bytes, and where the second piece starts after a wrap. */
export interface Taken {
  chunk: Buffer;
  /** Byte index in `chunk` where position 0 of the ring begins (a PAD before it jumps here); chunk length if no wrap. */
  wrapAt: number;
}

/** The consumer's end. Only the owning thread calls it. */
export class SpscReader {
  readonly header: Int32Array;
  readonly #bytes: Buffer;
  readonly #capacity: number;
  readonly #mask: number;
  #position = 0;

  constructor(buffer: SharedArrayBuffer) {
    const views = ringViews(buffer);
    this.header = views.header;
    this.#bytes = views.bytes;
    this.#capacity = views.capacity;
    this.#mask = this.#capacity - 1;
  }

  get hasEntries(): boolean {
    return Atomics.load(this.header, RING_WRITE_POSITION) !== this.#position;
  }

  /**
   * Copies every published byte into a private chunk and frees it in the ring at once; null if
   * nothing waits. A wrap copies the rest of the lap too (padding included, at most one entry's
   * worth): cheaper than finding the PAD word first.
   */
  take(): Taken | null {
    const end = Atomics.load(this.header, RING_WRITE_POSITION);
    if (end === this.#position) return null;
    const first = this.#position & this.#mask;
    const last = end & this.#mask;
    const bytes = this.#bytes;
    let taken: Taken;
    if (last > first) {
      const chunk = Buffer.allocUnsafeSlow(last - first);
      bytes.copy(chunk, 0, first, last);
      taken = { chunk, wrapAt: chunk.byteLength };
    } else {
      const wrapAt = this.#capacity - first;
      const chunk = Buffer.allocUnsafeSlow(wrapAt + last);
      bytes.copy(chunk, 0, first, this.#capacity);
      if (last > 0) bytes.copy(chunk, wrapAt, 0, last);
      taken = { chunk, wrapAt };
    }
    this.#position = end;
    Atomics.store(this.header, RING_READ_POSITION, end);
    return taken;
  }
}
