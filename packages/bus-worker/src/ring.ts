import { InvalidEventError } from "@threadbus/core";
import {
  CLOSED_BIT,
  DispatcherSleep,
  HEADER_WORDS,
  kCapacity,
  kHead,
  kRingOffset,
  kSleeping,
  kTail,
  POSITION_MASK,
} from "./shm/bus_header_layout.js";
import { alignedRecordBytes, FRAME_BYTES, FRAME_TYPE_WORD, PADDING_TYPE } from "./shm/record_layout.js";

export { FRAME_BYTES, PADDING_TYPE };

/** tryClaim() results that are not offsets. */
export const CLAIM_FULL = -1;
export const CLAIM_CLOSED = -2;

/** What the consumer finds at the head when the next record is claimed but not yet published. */
export interface PendingClaim {
  /** The head position (30-bit) the record starts at. */
  readonly position: number;
  /** The claimed length in bytes, or 0 if the claimer has not even marked its claim yet. */
  readonly length: number;
  /** The claiming client (thread slot), or -1 when not yet marked. */
  readonly client: number;
}

/** An event whose record exceeds a quarter of the ring: it could never be queued behind others. */
export class RecordTooLargeError extends InvalidEventError {
  constructor(
    readonly recordBytes: number,
    readonly maxRecordBytes: number,
    field = "data",
  ) {
    super(
      `invalid event: ${field}: the encoded event takes ${recordBytes} bytes, more than the ${maxRecordBytes} bytes a record may take (a quarter of the ring; raise ringBytes)`,
      field,
    );
  }
}

/**
 * A many-producer, single-consumer ring of variable-length records in a SharedArrayBuffer, after
 * Agrona's ManyToOneRingBuffer:
 * - a producer claims space with a CAS on the tail and at once marks the claim: the record's
 *   length *negated* and its client's number, so a record left half-written by a thread that died
 *   is visible with its size and its owner;
 * - it writes the record, then publishes it with one CAS of the length word from negative to
 *   positive: the consumer never sees a half-written record, and a producer whose claim was
 *   skipped as torn in the meantime learns it (its CAS fails);
 * - a record that would cross the end of the ring claims the rest of the ring as well and writes
 *   a padding record there, so every record is contiguous;
 * - the single consumer reads records in claim order, zeroes them after reading (a zero length
 *   means "claimed, not yet marked") and advances the head, which frees the space.
 * Stop sets CLOSED_BIT on the tail word, so no claim can ever follow it.
 *
 * Who may call what: tryClaim/publish/abandon from any producer thread; read/pendingClaim/
 * skipTorn from the consumer (the dispatcher) only; the getters from any thread.
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

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_WORDS);
    this.capacity = Atomics.load(this.header, kCapacity);
    const ringOffset = Atomics.load(this.header, kRingOffset);
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

  get closed(): boolean {
    return (Atomics.load(this.header, kTail) & CLOSED_BIT) !== 0;
  }

  /** Bytes claimed and not yet freed by the consumer. */
  get used(): number {
    return (
      ((Atomics.load(this.header, kTail) & POSITION_MASK) - Atomics.load(this.header, kHead)) & POSITION_MASK
    );
  }

  /** The consumer's position (30-bit). */
  get head(): number {
    return Atomics.load(this.header, kHead);
  }

  /**
   * Producer: claims room for a record of `length` bytes (frame included) for `client`. Returns
   * the byte offset to write at, CLAIM_FULL, or CLAIM_CLOSED.
   */
  tryClaim(length: number, client: number): number {
    if (length > this.maxRecordBytes) throw new RecordTooLargeError(length, this.maxRecordBytes);
    const header = this.header;
    const capacity = this.capacity;
    const aligned = alignedRecordBytes(length);
    for (;;) {
      const tail = Atomics.load(header, kTail);
      if ((tail & CLOSED_BIT) !== 0) return CLAIM_CLOSED;
      const index = tail & this.#mask;
      const toEnd = capacity - index;
      const padding = aligned > toEnd ? toEnd : 0;
      const needed = padding + aligned;
      // No cached head (Agrona's headCachePosition): positions are 30-bit here, and a cache left
      // stale by a gigabyte of other threads' records would wrap into a false "room".
      if (((tail - Atomics.load(header, kHead)) & POSITION_MASK) + needed > capacity) return CLAIM_FULL;
      if (Atomics.compareExchange(header, kTail, tail, (tail + needed) & POSITION_MASK) !== tail) continue;
      const words = this.words;
      let at = index;
      if (padding !== 0) {
        words[(index >> 2) + FRAME_TYPE_WORD] = PADDING_TYPE;
        Atomics.store(words, index >> 2, padding);
        at = 0;
      }
      // Mark the claim at once (straight-line code: a terminated thread stops only at a call or a
      // loop edge), so a claim whose thread dies is seen with its size and owner, never as a hole.
      words[(at >> 2) + FRAME_TYPE_WORD] = -(client + 1);
      Atomics.store(words, at >> 2, -length);
      return at;
    }
  }

  /**
   * Producer: publishes a claimed, written record. Returns false if the consumer skipped it as
   * torn meanwhile (the producer stalled past the deadline): the record is lost, and counted.
   * Wakes a sleeping consumer.
   */
  publish(offset: number, length: number, type: number): boolean {
    const words = this.words;
    words[(offset >> 2) + FRAME_TYPE_WORD] = type;
    if (Atomics.compareExchange(words, offset >> 2, -length, length) !== -length) return false;
    this.wakeConsumer();
    return true;
  }

  /**
   * Wakes the consumer if it said it sleeps waiting for records (SLEEPING; BLOCKED means it waits
   * for something else, which a publish does not bring): notifying costs ~3 µs, loading the flag ~0.01 µs.
   */
  wakeConsumer(): void {
    const header = this.header;
    if (Atomics.load(header, kSleeping) === DispatcherSleep.SLEEPING) {
      Atomics.store(header, kSleeping, DispatcherSleep.AWAKE);
      Atomics.notify(header, kSleeping);
    }
  }

  /** Wakes the consumer whatever its flag says (stop, abort, a subscriber that made room). */
  wake(): void {
    Atomics.store(this.header, kSleeping, DispatcherSleep.AWAKE);
    Atomics.notify(this.header, kSleeping);
  }

  /** Marks the ring closed at once: every later claim fails; claimed records are still read. */
  close(): void {
    Atomics.or(this.header, kTail, CLOSED_BIT);
    this.wake();
  }

  /** Consumer: true if a record may be waiting (claimed, perhaps not yet published). */
  hasClaimed(): boolean {
    return (Atomics.load(this.header, kTail) & POSITION_MASK) !== Atomics.load(this.header, kHead);
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
    let head = start;
    let count = 0;
    // No look at the tail: producers CAS it, and a consumer reading it in a loop would bounce its
    // cache line under them. Beyond the tail the ring is zeroed, so a zero length ends the pass;
    // a full ring ends it after one capacity (what was read is zeroed only after the pass).
    while (count < limit && ((head - start) & POSITION_MASK) < this.capacity) {
      const index = head & mask;
      const length = Atomics.load(words, index >> 2);
      if (length <= 0) break; // free, or claimed and not yet published: order requires waiting for it
      if (length < FRAME_BYTES || length > this.capacity - index)
        throw new Error(`threadbus ring corrupted: record of ${length} bytes at ${index}`);
      const type = words[(index >> 2) + FRAME_TYPE_WORD]!;
      if (type !== PADDING_TYPE) {
        if (!handler(type, index, length)) break;
        count++;
      }
      head = (head + alignedRecordBytes(length)) & POSITION_MASK;
    }
    if (head !== start) this.#free(start, head);
    return count;
  }

  /**
   * Consumer: true if a record (published, or claimed and marked) starts at the head. Reads the
   * head record's first word only, not the tail: cheap enough to spin on.
   */
  hasWork(): boolean {
    return Atomics.load(this.words, (Atomics.load(this.header, kHead) & this.#mask) >> 2) !== 0;
  }

  /** Consumer: the claimed-but-unpublished record at the head, or null if there is none. */
  pendingClaim(): PendingClaim | null {
    const head = Atomics.load(this.header, kHead);
    if ((Atomics.load(this.header, kTail) & POSITION_MASK) === head) return null;
    const index = head & this.#mask;
    const length = Atomics.load(this.words, index >> 2);
    if (length > 0) return null;
    const marker = this.words[(index >> 2) + FRAME_TYPE_WORD]!;
    return { position: head, length: -length, client: length < 0 && marker < 0 ? -marker - 1 : -1 };
  }

  /**
   * Consumer: skips the unpublished record at the head as torn (after Agrona's unblock()): the
   * caller decided its producer is dead or stalled past a deadline. A marked claim is skipped by
   * its size, in one CAS that a late publish would lose. An unmarked one (its thread died between
   * the claim and the mark) is skipped up to the next record that is marked or published, if the
   * bytes up to it are all zero, else up to the tail. Returns true if something was skipped.
   */
  skipTorn(claim: PendingClaim): boolean {
    const header = this.header;
    const words = this.words;
    const head = Atomics.load(header, kHead);
    if (head !== claim.position) return false;
    const tail = Atomics.load(header, kTail) & POSITION_MASK;
    if (tail === head) return false;
    const index = head & this.#mask;
    if (claim.length > 0) {
      if (Atomics.compareExchange(words, index >> 2, -claim.length, 0) !== -claim.length) return false;
      this.#free(head, (head + alignedRecordBytes(claim.length)) & POSITION_MASK);
      return true;
    }
    if (Atomics.load(words, index >> 2) !== 0) return false;
    let end = head;
    for (;;) {
      end = (end + FRAME_BYTES) & POSITION_MASK;
      if (end === tail) break;
      const at = end & this.#mask;
      // A claim never crosses the end of the ring: an unmarked one ends there at the latest.
      if (at === 0) break;
      if (Atomics.load(words, at >> 2) !== 0) break;
      if (words[(at >> 2) + FRAME_TYPE_WORD] !== 0) return false; // bytes written past a length that is still zero
    }
    this.#free(head, end);
    return true;
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
