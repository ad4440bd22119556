/**
 * The layout of the one SharedArrayBuffer every thread of a WorkerBus shares, in one place
 * (piscina's symbols/constants style): Int32 header words, the abort slots of signalled sends,
 * one state word per client thread, the shared name table, the Float64 counters, then the ring.
 * Offsets are written into the header by the creator, so a handle needs only the buffer.
 *
 * The tail and the head sit on different 64-byte cache lines: producers hammer the tail with CAS
 * while the consumer stores the head, and sharing a line would make each bounce the other's cache.
 */

/** Int32 word: producers' claim position (30 bits) plus CLOSED_BIT. Written only by CAS. */
export const kTail = 0;
/** Int32 word: consumer's position; everything between head and tail is claimed. */
export const kHead = 16;
/** Int32 word: 1 while the dispatcher sleeps waiting for records (a publish notifies it then), 2 while it waits for something else (room at a subscriber: only that subscriber, stop or an abort notify), 0 awake. */
export const kSleeping = 32;
/** Int32 word: bumped and notified by the dispatcher when it frees ring space while someone waits for room. */
export const kSpaceSeq = 33;
/** Int32 word: the ring's capacity in bytes (a power of two). */
export const kCapacity = 34;
/** Int32 word: the last subscription number handed out (ids are `sub.N`). */
export const kNextSubscription = 35;
/** Int32 word: threads waiting (asynchronously) for ring space; the dispatcher notifies kSpaceSeq only then. */
export const kSpaceWaiters = 36;
/** Int32 word: the dispatcher's state, see DispatcherState. */
export const kDispatcherState = 37;
/** Int32 word: maxSubscribers, so every thread sees the same cap. */
export const kMaxSubscribers = 38;
/** Int32 word: maxClients (threads that may use the bus at once, the starting one included). */
export const kMaxClients = 39;
/** Int32 word: MAGIC, so attach() can tell a WorkerBus buffer from any other SharedArrayBuffer. */
export const kMagic = 40;
/** Int32 word: the layout version (LAYOUT_VERSION). */
export const kVersion = 41;
/** Int32 words: byte offsets of the regions below, written once by the creator. */
export const kClientsOffset = 42;
export const kCountersOffset = 43;
export const kRingOffset = 44;
export const kNamesOffset = 45;
/** Int32 word: stop's timeout in ms, written by stop() before it closes the ring. */
export const kStopTimeoutMs = 46;
/** Int32 word: a record left claimed but unpublished this long (ms) by a live thread is skipped as torn. */
export const kUnblockAfterMs = 47;
/** Int32 words: abort flags of signalled sends, one per slot; see abort_slots.ts. */
export const kAbortSlots = 64;
export const ABORT_SLOTS = 256;
/** Size of the fixed Int32 header in words. */
export const HEADER_WORDS = kAbortSlots + ABORT_SLOTS;

export const MAGIC = 0x7462_7573; // "tbus"
export const LAYOUT_VERSION = 2;

export const DispatcherState = { starting: 0, running: 1, finished: 2, failed: 3 } as const;

/** Positions are 30-bit counters; bit 30 of the tail word marks the ring closed (set by stop). */
export const POSITION_MASK = 0x3fff_ffff;
export const CLOSED_BIT = 0x4000_0000;

/**
 * Client state words (one per thread slot): 0 free; a positive nonce once bus.handle() reserved
 * the slot; the negated nonce once a thread attached with that handle. The dispatcher frees a
 * slot (stores 0) after the thread detached or died and every record it published was read.
 */
export const CLIENT_FREE = 0;

/** Float64 counters written by the dispatcher only (one writer each: no atomics needed). */
export const kDelivered = 0;
export const kDispatcherDropped = 1;
export const kDroppedOnStop = 2;
export const kAborted = 3;
export const kSubscriptions = 4;
export const kConsumedRecords = 5;
export const kLostSubscribers = 6;
/** Records a thread claimed and never published (it died, or stalled past unblockAfterMs): skipped. */
export const kTorn = 7;
/** Counters of client slots that were freed, so totals never go backwards when a slot is reused. */
export const kRetiredSent = 8;
export const kRetiredRefused = 9;
export const kRetiredPublished = 10;
/** Thread slots in use: threads attached now (the starting one included), and gone ones not given back yet. */
export const kLiveClients = 11;
/** Client slots freed so far (detached or dead threads), for inspection. */
export const kReleasedClients = 12;
export const DISPATCHER_COUNTERS = 16;

/** Float64 counters per client (thread), written by that client only. */
export const kClientSent = 0;
export const kClientRefused = 1;
export const kClientPublished = 2;
export const CLIENT_COUNTERS = 4;

export interface SharedLayout {
  readonly capacity: number;
  readonly maxSubscribers: number;
  readonly maxClients: number;
  readonly clientsOffset: number;
  readonly namesOffset: number;
  readonly countersOffset: number;
  readonly counterCount: number;
  readonly ringOffset: number;
  readonly byteLength: number;
}

export function sharedLayout(
  capacity: number,
  maxSubscribers: number,
  maxClients: number,
  namesBytes: number,
): SharedLayout {
  const clientsOffset = HEADER_WORDS * 4;
  // Two words per client: its state, then its flag "waits (asynchronously) for ring space".
  const namesOffset = align(clientsOffset + 2 * maxClients * 4, 64);
  const countersOffset = align(namesOffset + namesBytes, 64);
  const counterCount = DISPATCHER_COUNTERS + maxClients * CLIENT_COUNTERS;
  const ringOffset = align(countersOffset + counterCount * 8, 64);
  return {
    capacity,
    maxSubscribers,
    maxClients,
    clientsOffset,
    namesOffset,
    countersOffset,
    counterCount,
    ringOffset,
    byteLength: ringOffset + capacity,
  };
}

/** Writes a fresh layout's header (the creator's job, before any other thread sees the buffer). */
export function writeLayout(buffer: SharedArrayBuffer, layout: SharedLayout, unblockAfterMs: number): void {
  const header = new Int32Array(buffer, 0, HEADER_WORDS);
  Atomics.store(header, kCapacity, layout.capacity);
  Atomics.store(header, kMaxSubscribers, layout.maxSubscribers);
  Atomics.store(header, kMaxClients, layout.maxClients);
  Atomics.store(header, kClientsOffset, layout.clientsOffset);
  Atomics.store(header, kNamesOffset, layout.namesOffset);
  Atomics.store(header, kCountersOffset, layout.countersOffset);
  Atomics.store(header, kRingOffset, layout.ringOffset);
  Atomics.store(header, kUnblockAfterMs, unblockAfterMs);
  Atomics.store(header, kVersion, LAYOUT_VERSION);
  Atomics.store(header, kMagic, MAGIC);
}

/** The views every thread builds over the shared buffer from the offsets in its header. */
export interface SharedViews {
  readonly header: Int32Array;
  readonly clients: Int32Array;
  /** Per client: 1 while one of its ready() calls waits for ring space (the dispatcher posts "space" then). */
  readonly spaceFlags: Int32Array;
  readonly counters: Float64Array;
  readonly maxClients: number;
}

export function sharedViews(buffer: SharedArrayBuffer): SharedViews {
  const header = new Int32Array(buffer, 0, HEADER_WORDS);
  const maxClients = Atomics.load(header, kMaxClients);
  return {
    header,
    clients: new Int32Array(buffer, Atomics.load(header, kClientsOffset), maxClients),
    spaceFlags: new Int32Array(buffer, Atomics.load(header, kClientsOffset) + maxClients * 4, maxClients),
    counters: new Float64Array(
      buffer,
      Atomics.load(header, kCountersOffset),
      DISPATCHER_COUNTERS + maxClients * CLIENT_COUNTERS,
    ),
    maxClients,
  };
}

/** Index of a client's first counter in the counters view. */
export function clientCounterBase(client: number): number {
  return DISPATCHER_COUNTERS + client * CLIENT_COUNTERS;
}

export function align(value: number, to: number): number {
  return (value + to - 1) & ~(to - 1);
}
