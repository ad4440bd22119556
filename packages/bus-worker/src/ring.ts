import { InvalidEventError } from "@threadbus/core";
import {
  align,
  CLOSED_BIT,
  HEADER_WORDS,
  kCapacity,
  kHead,
  kSleeping,
  kTail,
  POSITION_MASK,
} from "./constants.js";

/** Every record starts with two Int32 words: its length in bytes (frame included) and its type. */
export const FRAME_BYTES = 8;
/** The record type a wrap leaves at the end of the ring; the consumer skips it. */
export const PADDING_TYPE = 0x7fff_ffff;

/** tryClaim() results that are not offsets. */
export const CLAIM_FULL = -1;
export const CLAIM_CLOSED = -2;

/** An event whose record exceeds a quarter of the ring: it could never be queued behind others. */
export class RecordTooLargeError extends InvalidEventError {
  constructor(
    readonly recordBytes: number,
    readonly maxRecordBytes: number,
  ) {
    super(
      `invalid event: data: the encoded event takes ${recordBytes} bytes, more than the ${maxRecordBytes} bytes a record may take (a quarter of the ring; raise ringBytes)`,
      "data",
    );
  }
}

/**
 * A many-producer, single-consumer ring of variable-length records in a SharedArrayBuffer, after
 * Agrona's ManyToOneRingBuffer:
 * - a producer claims space with a CAS on the tail, writes its record, then publishes it by storing
 *   the record's length last (Atomics.store), so the consumer never sees a half-written record;
 * - a record that would cross the end of the ring claims the rest of the ring as well and writes a
 *   padding record there, so every record is contiguous;
 * - the single consumer reads records in claim order, and after reading zeroes their bytes (a zero
 *   length means "not yet published") and advances the head, which frees the space.
 * Stop claims its record with CLOSED_BIT set in the same CAS, so no claim can ever follow it.
 */
export class Ring {
  readonly header: Int32Array;
  readonly bytes: Uint8Array;
  /** The same bytes as a Buffer, for string writes and copies without allocation. */
  readonly buffer: Buffer;
  readonly words: Int32Array;
  readonly capacity: number;
  readonly maxRecordBytes: number;
  readonly #mask: number;

  constructor(buffer: SharedArrayBuffer, ringOffset: number) {
    this.header = new Int32Array(buffer, 0, HEADER_WORDS);
    this.capacity = Atomics.load(this.header, kCapacity);
    this.bytes = new Uint8Array(buffer, ringOffset, this.capacity);
    this.buffer = Buffer.from(buffer, ringOffset, this.capacity);
    this.words = new Int32Array(buffer, ringOffset, this.capacity >> 2);
    this.maxRecordBytes = this.capacity >> 2;
    this.#mask = this.capacity - 1;
  }

  /** Validates a capacity: a power of two from 1 KiB to 256 MiB (positions are 30-bit). */
  static isValidCapacity(capacity: number): boolean {
    return (
      Number.isInteger(capacity) &&
      capacity >= 1024 &&
      capacity <= 1 << 28 &&
      (capacity & (capacity - 1)) === 0
    );
  }

  /** Writes the capacity into a fresh shared header (the creator's job, before anyone reads it). */
  static initialize(buffer: SharedArrayBuffer, capacity: number): void {
    Atomics.store(new Int32Array(buffer, 0, HEADER_WORDS), kCapacity, capacity);
  }

  get closed(): boolean {
    return (Atomics.load(this.header, kTail) & CLOSED_BIT) !== 0;
  }

  /** Bytes claimed and not yet freed by the consumer. */
  get used(): number {
    return (
      ((Atomics.load(this.header, kTail) & POSITION_MASK) - Atomics.load(this.header, kHead)) & POSITION_MASK
    );
  }

  /**
   * Claims room for a record of `length` bytes (frame included). Returns the byte offset to write
   * at, CLAIM_FULL, or CLAIM_CLOSED. With `close`, the same CAS marks the ring closed.
   */
  tryClaim(length: number, close = false): number {
    if (length > this.maxRecordBytes) throw new RecordTooLargeError(length, this.maxRecordBytes);
    const header = this.header;
    const aligned = align(length, FRAME_BYTES);
    for (;;) {
      const tail = Atomics.load(header, kTail);
      if ((tail & CLOSED_BIT) !== 0) return CLAIM_CLOSED;
      const head = Atomics.load(header, kHead);
      const index = tail & this.#mask;
      const toEnd = this.capacity - index;
      const padding = aligned > toEnd ? toEnd : 0;
      const needed = padding + aligned;
      if (((tail - head) & POSITION_MASK) + needed > this.capacity) return CLAIM_FULL;
      const next = ((tail + needed) & POSITION_MASK) | (close ? CLOSED_BIT : 0);
      if (Atomics.compareExchange(header, kTail, tail, next) !== tail) continue;
      if (padding === 0) return index;
      const words = this.words;
      words[(index >> 2) + 1] = PADDING_TYPE;
      Atomics.store(words, index >> 2, padding);
      return 0;
    }
  }

  /** Publishes a claimed record: its type, then its length last. Wakes a sleeping consumer. */
  publish(offset: number, length: number, type: number): void {
    const words = this.words;
    words[(offset >> 2) + 1] = type;
    Atomics.store(words, offset >> 2, length);
    const header = this.header;
    // Notifying costs ~3 µs; loading the flag ~0.01 µs. Only a consumer that said it sleeps is woken.
    if (Atomics.load(header, kSleeping) !== 0) {
      Atomics.store(header, kSleeping, 0);
      Atomics.notify(header, kSleeping);
    }
  }

  /** Wakes a sleeping consumer without publishing (stop, abort). */
  wake(): void {
    Atomics.store(this.header, kSleeping, 0);
    Atomics.notify(this.header, kSleeping);
  }

  /** Marks the ring closed at once: every later claim fails; claimed records are still read. */
  close(): void {
    Atomics.or(this.header, kTail, CLOSED_BIT);
    this.wake();
  }

  /** Consumer: true if a record may be waiting (claimed, perhaps not yet published). */
  hasClaimed(): boolean {
    return (Atomics.load(this.header, kTail) & POSITION_MASK) - Atomics.load(this.header, kHead) !== 0;
  }

  /**
   * Consumer: calls `handler(type, offset, length)` for published records in order, at most
   * `limit` of them, skipping padding. A handler returning false leaves its record unread (the
   * consumer is blocked on it and will read it again). Frees the space of every record read.
   * Returns how many records were read.
   */
  read(handler: (type: number, offset: number, length: number) => boolean, limit: number): number {
    const header = this.header;
    const words = this.words;
    const mask = this.#mask;
    const start = Atomics.load(header, kHead);
    const tail = Atomics.load(header, kTail) & POSITION_MASK;
    let head = start;
    let count = 0;
    while (head !== tail && count < limit) {
      const index = head & mask;
      const length = Atomics.load(words, index >> 2);
      if (length === 0) break; // claimed, not yet published: order requires waiting for it
      if (length < FRAME_BYTES || length > this.capacity - index)
        throw new Error(`threadbus ring corrupted: record of ${length} bytes at ${index}`);
      const type = words[(index >> 2) + 1]!;
      if (type !== PADDING_TYPE) {
        if (!handler(type, index, length)) break;
        count++;
      }
      head = (head + align(length, FRAME_BYTES)) & POSITION_MASK;
    }
    if (head !== start) this.#free(start, head);
    return count;
  }

  /** Zeroes [from, to) so a stale length is never read as published, then hands the space back. */
  #free(from: number, to: number): void {
    const begin = from & this.#mask;
    const end = to & this.#mask;
    if (begin < end) this.bytes.fill(0, begin, end);
    else {
      this.bytes.fill(0, begin, this.capacity);
      this.bytes.fill(0, 0, end);
    }
    Atomics.store(this.header, kHead, to);
  }
}
