import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import type { BusEvent, OverflowPolicy } from "@threadbus/core";
import { type BodyNames, pathStart } from "./codec.js";
import { type CompiledDecoder, decodeData } from "./data_codec.js";
import { type DataReads, DeliveredEvent } from "./delivered_event.js";
import { utf8Slice } from "./fast_buffer.js";
import { BODY_DATA_BYTES, BODY_PATH_BYTES, BODY_TAG, DataTag } from "./shm/record_layout.js";

/**
 * The delivery path, both ends: how matched events get from the dispatcher to one subscription.
 *
 * Each subscription owns a single-producer, single-consumer ring in its own SharedArrayBuffer.
 * The dispatcher (DeliveryWriter) copies the body of every matching send record into it, publishes
 * what it wrote once per pass, and wakes the subscriber's thread only if it said it sleeps. The
 * subscriber (DeliveryReader) copies what is waiting into a private chunk when its consumer asks
 * for events, frees the ring space at once, and builds the events from the chunk. Two counts flow
 * back: ring bytes (freed when copied out) and events consumed (handed to the consumer): the
 * subscription holds at most `bufferSize` events not yet consumed, as its overflow policy promises.
 * No postMessage per batch, no allocation per batch on the dispatcher: measured against batches
 * of events posted as transferred buffers, this took the dispatcher's own cost per delivered event
 * from ~0.4 µs (postMessage, a new ArrayBuffer per batch, growth) to a word copy.
 *
 * Entries are `[length][body]`, 4-byte aligned and contiguous: one that would cross the end of the
 * ring leaves a PAD entry and starts again at 0. A body larger than a quarter of the ring travels
 * by postMessage on the subscription's port instead, behind a JUMBO entry that keeps its place in
 * the order (the reader takes it with receiveMessageOnPort when it reaches the entry).
 */

// Int32 header words; each side's hot words sit on a cache line of their own.
const kWritePos = 0; // dispatcher: bytes written (30-bit position)
const kWritten = 1; // dispatcher: events written
const kReadPos = 16; // subscriber: bytes copied out (freed)
const kConsumed = 17; // subscriber: events handed to its consumer
const kReaderSleeping = 32; // subscriber: 1 while it waits for entries
const kWriterWaiting = 33; // dispatcher: 1 while it waits for room (block, or a drop-oldest backlog)
const kEnded = 34; // dispatcher: 1 once no entry will follow
const kTail = 38; // dispatcher: 1 if a last batch of entries follows on the port, after the ring's
const kClosing = 35; // subscriber: closing: take what is in flight without the bufferSize limit
const kCapacity = 36;
const kBufferSize = 37;
const kSkipRequested = 2; // dispatcher (drop-oldest): oldest events the reader must skip, so far
const kBacklogged = 3; // dispatcher (drop-oldest): events waiting in its backlog
const kSkipped = 18; // subscriber: skips applied so far
// Float64 counters, written by the dispatcher.
const COUNTERS_BYTE = 256;
const kDeliveredCount = 0;
const kDroppedCount = 1;
const DATA_BYTE = 512;

const POSITION_MASK = 0x3fff_ffff;
const JUMBO = -1;
const PAD = -2;
/** The message that wakes a sleeping reader (the bodies of large events travel as ArrayBuffers). */
const WAKE = 0;

/**
 * Ring bytes for a subscription: ~256 bytes an event of its buffer, from 16 KiB to 4 MiB (the
 * default bufferSize of 1024 takes 256 KiB). Smaller rings made 1 KiB events fill the ring long
 * before the buffer, and every refill cost the dispatcher a wake.
 */
export function deliveryRingBytes(bufferSize: number): number {
  let bytes = 16 * 1024;
  while (bytes < bufferSize * 256 && bytes < 1 << 22) bytes *= 2;
  return bytes;
}

/** Creates a subscription's ring (on the subscribing thread, which sends it to the dispatcher). */
export function createDeliveryRing(bufferSize: number): SharedArrayBuffer {
  const capacity = deliveryRingBytes(bufferSize);
  const buffer = new SharedArrayBuffer(DATA_BYTE + capacity);
  const header = new Int32Array(buffer, 0, DATA_BYTE >> 2);
  header[kCapacity] = capacity;
  header[kBufferSize] = bufferSize;
  return buffer;
}

interface RingViews {
  header: Int32Array;
  counters: Float64Array;
  words: Int32Array;
  bytes: Buffer;
  capacity: number;
}

function views(buffer: SharedArrayBuffer): RingViews {
  const header = new Int32Array(buffer, 0, DATA_BYTE >> 2);
  const capacity = Atomics.load(header, kCapacity);
  return {
    header,
    counters: new Float64Array(buffer, COUNTERS_BYTE, 2),
    words: new Int32Array(buffer, DATA_BYTE, capacity >> 2),
    bytes: Buffer.from(buffer, DATA_BYTE, capacity),
    capacity,
  };
}

/** The bufferSize a subscription's ring was created for. */
export function deliveryBufferSize(buffer: SharedArrayBuffer): number {
  return new Int32Array(buffer, 0, DATA_BYTE >> 2)[kBufferSize]!;
}

/** The dispatcher's counters for a subscription, readable from its own thread at any time. */
export function deliveryCounters(buffer: SharedArrayBuffer): {
  delivered: number;
  dropped: number;
  /** Events delivered to the ring that drop-oldest dropped there later. */
  skips: number;
  /** Events drop-oldest holds back in the dispatcher for lack of ring bytes. */
  backlogged: number;
} {
  const counters = new Float64Array(buffer, COUNTERS_BYTE, 2);
  const header = new Int32Array(buffer, 0, DATA_BYTE >> 2);
  return {
    delivered: counters[kDeliveredCount]!,
    dropped: counters[kDroppedCount]!,
    skips: Atomics.load(header, kSkipRequested),
    backlogged: Atomics.load(header, kBacklogged),
  };
}

/**
 * The dispatcher's end of one subscription: its ring, its overflow policy and its counters.
 * Only the dispatcher thread calls these methods.
 *
 * The policies, with memory bounded on both sides:
 * - "block": no room means the dispatcher waits (the caller sees `offer` return false);
 * - "drop-newest": no room means the new event is dropped;
 * - "drop-oldest": the oldest event the consumer has not taken is dropped. If that one is already
 *   in the ring, the dispatcher asks the reader to skip it (kSkipRequested; the reader applies
 *   skips before it hands out the next event), which frees a place at once and ring bytes when
 *   the reader gets to it. While ring bytes are short, the newest events wait in a backlog here
 *   (copies), which never holds more than bufferSize.
 */
export class DeliveryWriter {
  readonly #ring: RingViews;
  readonly #mask: number;
  readonly #maxEntryBytes: number;
  #writePos = 0;
  #written = 0;
  /** drop-oldest: skips asked of the reader so far. */
  #skips = 0;
  /** Last positions read from the subscriber's side: re-read only when they say "full" (Agrona's head cache). */
  #readPosSeen = 0;
  #consumedSeen = 0;
  #skippedSeen = 0;
  /** drop-oldest: the newest events that found no ring bytes, oldest first: [bodyBytes, ...body words]. */
  #backlog: Int32Array[] = [];
  #dirty = false;
  delivered = 0;
  dropped = 0;
  removed = false;
  /** The dispatcher's mark: this writer is on its list of writers to publish after the pass. */
  listed = false;
  /** Called when the subscriber's port closes (its thread died). */
  onGone: (() => void) | null = null;

  constructor(
    readonly id: string,
    readonly system: string,
    readonly kind: string,
    readonly path: string | null,
    readonly client: number,
    readonly overflow: OverflowPolicy,
    readonly bufferSize: number,
    readonly port: MessagePort,
    buffer: SharedArrayBuffer,
    /** The dispatcher's totals over every subscription, live or gone. */
    readonly totals: { delivered: number; dropped: number },
  ) {
    this.#ring = views(buffer);
    this.#mask = this.#ring.capacity - 1;
    this.#maxEntryBytes = this.#ring.capacity >> 2;
    port.once("close", () => {
      if (!this.removed) this.onGone?.();
    });
  }

  /** Events waiting for the subscriber's consumer (in its ring, its chunk, or the backlog). */
  get pending(): number {
    return this.#live(true) + this.#backlog.length;
  }

  get hasBacklog(): boolean {
    return this.#backlog.length > 0;
  }

  /**
   * Offers the send body at `body` (a word index into `source`) of `bodyBytes` bytes. Returns
   * false only under "block" when there is no room (the dispatcher must wait); a drop is counted
   * and returns true.
   */
  offer(source: Int32Array, body: number, bodyBytes: number): boolean {
    if (this.#backlog.length === 0 && this.#write(source, body, bodyBytes)) return true;
    switch (this.overflow) {
      case "block":
        return false;
      case "drop-newest":
        this.#countDrop();
        return true;
      default:
        this.#dropOldest();
        if (this.#backlog.length === 0 && this.#write(source, body, bodyBytes)) return true;
        this.#pushBacklog(source, body, bodyBytes);
        return true;
    }
  }

  /**
   * Stop's timeout expired with this subscriber full: the event goes to it anyway, past its
   * bufferSize (into the ring if bytes allow, else behind its backlog, which end() posts).
   */
  forceOffer(source: Int32Array, body: number, bodyBytes: number): void {
    if (this.#backlog.length === 0 && this.#write(source, body, bodyBytes, true)) return;
    this.#pushBacklog(source, body, bodyBytes);
  }

  /** Moves backlog entries into the ring while they fit; true if some remain. */
  pumpBacklog(): boolean {
    const backlog = this.#backlog;
    let moved = 0;
    while (moved < backlog.length) {
      const entry = backlog[moved]!;
      if (!this.#write(entry, 1, entry[0]!)) break;
      moved++;
    }
    if (moved > 0) backlog.splice(0, moved);
    if (backlog.length > 0) Atomics.store(this.#ring.header, kWriterWaiting, 1);
    return backlog.length > 0;
  }

  /** Under "block": true once an event of `bodyBytes` would fit (re-reading the subscriber's side). */
  hasRoom(bodyBytes: number): boolean {
    return this.#fits(entryBytes(bodyBytes), true);
  }

  /** True once the oldest backlog entry would fit. */
  backlogFits(): boolean {
    const first = this.#backlog[0];
    return first === undefined || this.#fits(entryBytes(first[0]!), true);
  }

  /** A send's signal aborted before it reached this subscriber: counted here, not as a policy drop. */
  skipAborted(): void {
    this.dropped++;
    this.#dirty = true;
  }

  /** Asks the subscriber to wake the dispatcher when it makes room (see DeliveryReader.consume). */
  askForRoom(): void {
    Atomics.store(this.#ring.header, kWriterWaiting, 1);
  }

  /**
   * Publishing is two steps, each over every subscription written in a pass: counters first, then
   * positions, so a subscriber that sees an event also sees every counter that event moved.
   */
  publishCounters(): void {
    if (!this.#dirty) return;
    const { header, counters } = this.#ring;
    counters[kDeliveredCount] = this.delivered;
    counters[kDroppedCount] = this.dropped;
    Atomics.store(header, kBacklogged, this.#backlog.length);
  }

  /** Makes this pass's entries visible, and wakes the subscriber if it sleeps. */
  publish(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const header = this.#ring.header;
    Atomics.store(header, kSkipRequested, this.#skips);
    Atomics.store(header, kWritten, this.#written);
    Atomics.store(header, kWritePos, this.#writePos);
    if (Atomics.load(header, kReaderSleeping) !== 0) {
      Atomics.store(header, kReaderSleeping, 0);
      this.port.postMessage(WAKE);
    }
  }

  /** No entry will follow: the subscriber ends its iterator after what it holds. Drops a backlog, counted. */
  /**
   * No entry will follow: the subscriber ends its iterator after what it holds. A drop-oldest
   * backlog that the ring cannot take now follows by postMessage, as one last batch (kTail), so
   * what the subscription held is still delivered after an unsubscribe.
   */
  end(): void {
    if (this.removed) return;
    this.removed = true;
    if (this.#backlog.length > 0 && this.pumpBacklog()) this.#postTail();
    this.#dirty = true;
    this.publishCounters();
    this.publish();
    const header = this.#ring.header;
    Atomics.store(header, kEnded, 1);
    Atomics.store(header, kReaderSleeping, 0);
    this.port.postMessage(WAKE);
  }

  #write(source: Int32Array, body: number, bodyBytes: number, pastBuffer = false): boolean {
    const ring = this.#ring;
    const size = entryBytes(bodyBytes);
    const jumbo = size > this.#maxEntryBytes;
    if (!this.#fits(jumbo ? 4 : size, false, pastBuffer)) return false;
    const words = ring.words;
    let at = this.#writePos & this.#mask;
    const toEnd = ring.capacity - at;
    if (!jumbo && size > toEnd) {
      words[at >> 2] = PAD;
      this.#writePos = (this.#writePos + toEnd) & POSITION_MASK;
      at = 0;
    }
    if (jumbo) {
      // Posted before the entry is published, so the message is queued by the time the reader sees it.
      const copy = source.slice(body, body + ((bodyBytes + 3) >> 2));
      this.port.postMessage(copy.buffer, [copy.buffer]);
      words[at >> 2] = JUMBO;
      this.#writePos = (this.#writePos + 4) & POSITION_MASK;
    } else {
      let to = at >> 2;
      words[to++] = bodyBytes;
      const end = body + ((bodyBytes + 3) >> 2);
      // A word loop: ~10 ns for a 100-byte body, where TypedArray#set needs a subarray view per call.
      for (let from = body; from < end; from++) words[to++] = source[from]!;
      this.#writePos = (this.#writePos + size) & POSITION_MASK;
    }
    this.#written = (this.#written + 1) | 0;
    this.delivered++;
    this.totals.delivered++;
    this.#dirty = true;
    return true;
  }

  #postTail(): void {
    const backlog = this.#backlog;
    let words = 0;
    for (const entry of backlog) words += entry.length;
    const tail = new Int32Array(words);
    let at = 0;
    for (const entry of backlog) {
      tail.set(entry, at);
      at += entry.length;
      this.delivered++;
      this.totals.delivered++;
    }
    this.#backlog = [];
    this.port.postMessage(tail.buffer, [tail.buffer]);
    Atomics.store(this.#ring.header, kTail, 1);
  }

  #countDrop(): void {
    this.dropped++;
    this.totals.dropped++;
    this.#dirty = true;
  }

  /** Events written to the ring that the reader has neither handed out nor been asked to skip. */
  #live(fresh: boolean): number {
    if (fresh) {
      const header = this.#ring.header;
      this.#consumedSeen = Atomics.load(header, kConsumed);
      this.#skippedSeen = Atomics.load(header, kSkipped);
    }
    // Skipped events count as consumed too; the skips still pending are not live any more.
    return ((this.#written - this.#consumedSeen) | 0) - ((this.#skips - this.#skippedSeen) | 0);
  }

  /** drop-oldest with no room: drops the oldest event not taken, if the subscription holds bufferSize. */
  #dropOldest(): void {
    const inRing = this.#live(true);
    if (inRing + this.#backlog.length < this.bufferSize) return;
    if (inRing > 0) this.#skips = (this.#skips + 1) | 0;
    else this.#backlog.shift();
    this.#countDrop();
  }

  /** True if `size` bytes (plus the padding a wrap would need) and one more event fit. */
  #fits(size: number, fresh: boolean, pastBuffer = false): boolean {
    const header = this.#ring.header;
    if (
      !pastBuffer &&
      (fresh || this.#live(false) >= this.bufferSize) &&
      this.#live(true) >= this.bufferSize
    ) {
      if (Atomics.load(header, kClosing) === 0) return false;
    }
    const at = this.#writePos & this.#mask;
    const needed = size > this.#ring.capacity - at ? size + this.#ring.capacity - at : size;
    if (fresh || ((this.#writePos - this.#readPosSeen) & POSITION_MASK) + needed > this.#ring.capacity) {
      this.#readPosSeen = Atomics.load(header, kReadPos);
      if (((this.#writePos - this.#readPosSeen) & POSITION_MASK) + needed > this.#ring.capacity) return false;
    }
    return true;
  }

  #pushBacklog(source: Int32Array, body: number, bodyBytes: number): void {
    const words = (bodyBytes + 3) >> 2;
    // Keeps the body's byte length in front, as a ring entry has it.
    const entry = new Int32Array(words + 1);
    entry[0] = bodyBytes;
    entry.set(source.subarray(body, body + words), 1);
    this.#backlog.push(entry);
    this.#dirty = true;
    Atomics.store(this.#ring.header, kWriterWaiting, 1);
  }
}

function entryBytes(bodyBytes: number): number {
  return 4 + ((bodyBytes + 3) & ~3);
}

/** Events a reader builds lazily before it samples whether its consumer reads `data`. */
const SAMPLE_EVENTS = 64;
/** Events decoded eagerly, once the consumer was seen reading data, before it is sampled again. */
const EAGER_EVENTS = 4096;

/**
 * The subscriber's end of one subscription. Only the subscribing thread calls these methods.
 */
export class DeliveryReader {
  readonly #ring: RingViews;
  readonly #mask: number;
  readonly #port: MessagePort;
  readonly #names: BodyNames;
  readonly #wakeDispatcher: () => void;
  #readPos = 0;
  #consumed = 0;
  #skipped = 0;
  /** Pending wait() calls, resolved by a WAKE message; the port keeps the event loop alive while there is one. */
  #waiters: Array<() => void> = [];
  /** Bodies of large events (and a last batch) taken off the port by its listener, in order. */
  readonly #bodies: ArrayBuffer[] = [];
  /** Lazy or eager `data`: see SAMPLE_EVENTS. */
  #eagerLeft = 0;
  #lazyMade = 0;
  readonly #reads: DataReads;
  readonly #codecs: CompiledDecoder | null;

  constructor(
    buffer: SharedArrayBuffer,
    port: MessagePort,
    names: BodyNames,
    codecs: CompiledDecoder | null,
    wakeDispatcher: () => void,
  ) {
    this.#codecs = codecs;
    this.#reads = { reads: 0, codecs };
    this.#ring = views(buffer);
    this.#mask = this.#ring.capacity - 1;
    this.#port = port;
    this.#names = names;
    this.#wakeDispatcher = wakeDispatcher;
    port.on("message", (message: ArrayBuffer | typeof WAKE) => {
      if (message instanceof ArrayBuffer) this.#bodies.push(message);
      else this.interrupt();
    });
    // A subscription nobody waits on does not hold its thread open (see wait()).
    port.unref();
  }

  /** True once the dispatcher ended the subscription and every entry was read (its tail too). */
  get ended(): boolean {
    const header = this.#ring.header;
    return (
      Atomics.load(header, kEnded) === 1 &&
      Atomics.load(header, kWritePos) === this.#readPos &&
      Atomics.load(header, kTail) !== 1
    );
  }

  /** True if entries are waiting in the ring. */
  get ready(): boolean {
    const header = this.#ring.header;
    return Atomics.load(header, kWritePos) !== this.#readPos || Atomics.load(header, kTail) === 1;
  }

  /**
   * Copies every entry waiting in the ring into a private chunk, frees their ring space, and
   * appends their events to `out`. Returns how many were appended.
   */
  read<D>(out: BusEvent<D>[]): number {
    const { header, words, bytes, capacity } = this.#ring;
    const end = Atomics.load(header, kWritePos);
    let start = this.#readPos;
    if (end === start) return Atomics.load(header, kTail) === 1 ? this.#readTail(out) : 0;
    // The waiting bytes are one piece, or two when they wrap; a PAD entry ends the first piece.
    const first = start & this.#mask;
    const last = end & this.#mask;
    let firstEnd = last > first ? last : capacity;
    if (last <= first) {
      for (let at = first; at < capacity; ) {
        const length = words[at >> 2]!;
        if (length === PAD) {
          firstEnd = at;
          break;
        }
        at += length === JUMBO ? 4 : entryBytes(length);
      }
    }
    const secondEnd = last > first ? 0 : last;
    const chunk = Buffer.allocUnsafeSlow(firstEnd - first + secondEnd);
    bytes.copy(chunk, 0, first, firstEnd);
    if (secondEnd > 0) bytes.copy(chunk, firstEnd - first, 0, secondEnd);
    start = end;
    this.#readPos = start;
    Atomics.store(header, kReadPos, start);
    this.#wakeWriter();
    return this.#parse(chunk, out);
  }

  /** Counts events handed to the consumer; wakes a dispatcher that waits for room. */
  consume(count: number): void {
    this.#consumed = (this.#consumed + count) | 0;
    Atomics.store(this.#ring.header, kConsumed, this.#consumed);
    this.#wakeWriter();
  }

  /** Oldest events the dispatcher (drop-oldest) asked this reader to drop and it has not yet. */
  pendingSkips(): number {
    return (Atomics.load(this.#ring.header, kSkipRequested) - this.#skipped) | 0;
  }

  /** Counts events dropped on the dispatcher's request: skipped first, so the dispatcher never counts one as free twice. */
  skip(count: number): void {
    const header = this.#ring.header;
    this.#skipped = (this.#skipped + count) | 0;
    this.#consumed = (this.#consumed + count) | 0;
    Atomics.store(header, kSkipped, this.#skipped);
    Atomics.store(header, kConsumed, this.#consumed);
    this.#wakeWriter();
  }

  /** Lifts the bufferSize limit: the subscription is closing and takes whatever is in flight. */
  close(): void {
    Atomics.store(this.#ring.header, kClosing, 1);
    this.#wakeWriter(true);
  }

  /**
   * Resolves once entries arrive or the subscription ends (or on a spurious wake: callers look
   * again). The dispatcher posts a WAKE on the port when it publishes to a reader that said it
   * sleeps; the port holds the thread's event loop open while someone waits.
   *
   * Not Atomics.waitAsync: measured on Node 20, a waitAsync woken by a notify from the dispatcher
   * sometimes stayed unresolved for seconds, until some message reached this thread.
   */
  wait(): Promise<void> {
    const header = this.#ring.header;
    Atomics.store(header, kReaderSleeping, 1);
    if (this.ready || Atomics.load(header, kEnded) === 1) {
      Atomics.store(header, kReaderSleeping, 0);
      return Promise.resolve();
    }
    if (this.#waiters.length === 0) this.#port.ref();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * The subscription is over and every entry was read (or it was abandoned): closes the port.
   * Pending waits are released first: closing drops what the port still holds, a WAKE included.
   */
  dispose(): void {
    this.interrupt();
    this.#port.close();
  }

  /** Releases every pending wait() (a WAKE, or the bus failed and the dispatcher never will). */
  interrupt(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    this.#port.unref();
    for (const resolve of waiters) resolve();
  }

  #wakeWriter(always = false): void {
    const header = this.#ring.header;
    if (always || Atomics.load(header, kWriterWaiting) !== 0) {
      Atomics.store(header, kWriterWaiting, 0);
      this.#wakeDispatcher();
    }
  }

  /** The last batch a subscription's end sent by postMessage (see DeliveryWriter.end). */
  #readTail<D>(out: BusEvent<D>[]): number {
    if (Atomics.load(this.#ring.header, kEnded) !== 1) return 0;
    Atomics.store(this.#ring.header, kTail, 2);
    return this.#parse(Buffer.from(this.#takeBody()), out);
  }

  /**
   * The next body posted on the port, in order: one the listener already took, else one still
   * queued (a body is always posted before the entry that names it is published).
   */
  #takeBody(): ArrayBuffer {
    const taken = this.#bodies.shift();
    if (taken !== undefined) return taken;
    for (;;) {
      const received = receiveMessageOnPort(this.#port);
      if (received === undefined) throw new Error("threadbus: the bytes of a large event are missing");
      if (received.message instanceof ArrayBuffer) return received.message;
      this.interrupt(); // a WAKE met on the way
    }
  }

  #parse<D>(chunk: Buffer, out: BusEvent<D>[]): number {
    const words = new Int32Array(chunk.buffer, chunk.byteOffset, chunk.byteLength >> 2);
    let count = 0;
    let at = 0;
    const eager = this.#eagerLeft > 0;
    while (at < chunk.byteLength) {
      const length = words[at >> 2]!;
      if (length === PAD) break;
      if (length === JUMBO) {
        const body = Buffer.from(this.#takeBody());
        const bodyWords = new Int32Array(body.buffer, body.byteOffset, body.byteLength >> 2);
        out.push(this.#event(body, bodyWords, 0, eager));
        at += 4;
      } else {
        out.push(this.#event(chunk, words, (at >> 2) + 1, eager));
        at += entryBytes(length);
      }
      count++;
    }
    if (!eager) this.#sample();
    else this.#eagerLeft -= count;
    return count;
  }

  #event<D>(text: Buffer, words: Int32Array, body: number, eager: boolean): BusEvent<D> {
    const names = this.#names;
    names.read(text, words, body);
    const start = body * 4 + pathStart(words, body);
    const pathEnd = start + words[body + BODY_PATH_BYTES]!;
    const path = utf8Slice(text, start, pathEnd);
    const tag = words[body + BODY_TAG]!;
    if (tag === DataTag.none) return { system: names.system, kind: names.kind, path };
    const dataEnd = pathEnd + words[body + BODY_DATA_BYTES]!;
    if (eager || tag === DataTag.string || tag === DataTag.bytes)
      return {
        system: names.system,
        kind: names.kind,
        path,
        data: decodeData(tag, text, pathEnd, dataEnd, this.#codecs) as D,
      };
    this.#lazyMade++;
    return new DeliveredEvent<D>(names.system, names.kind, path, text, pathEnd, dataEnd, tag, this.#reads);
  }

  /** After SAMPLE_EVENTS lazy events: a consumer that read most of their data gets eager ones. */
  #sample(): void {
    if (this.#lazyMade < SAMPLE_EVENTS) return;
    // Reads lag: the consumer may not have touched the newest events yet. Half is the bar.
    if (this.#reads.reads * 2 >= this.#lazyMade) this.#eagerLeft = EAGER_EVENTS;
    this.#lazyMade = 0;
    this.#reads.reads = 0;
  }
}
