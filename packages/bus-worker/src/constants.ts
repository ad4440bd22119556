/**
 * The layout of the one SharedArrayBuffer every thread of a WorkerBus shares, in one place
 * (piscina's symbols/constants style). Int32 word indices of the header come first; the Float64
 * counters and the ring's bytes follow at offsets computed by `sharedLayout()`.
 *
 * The tail and the head sit on different 64-byte cache lines: producers hammer the tail with CAS
 * while the consumer stores the head, and sharing a line would make each bounce the other's cache.
 */

/** Int32 word: producers' claim position (30 bits) plus CLOSED_BIT. Written only by CAS. */
export const kTail = 0;
/** Int32 word: consumer's position; everything between head and tail is claimed. */
export const kHead = 16;
/** Int32 word: 1 while the dispatcher sleeps (publishers notify only then), else 0. */
export const kSleeping = 32;
/** Int32 word: bumped and notified to wake a dispatcher waiting on something else than the ring. */
export const kWake = 33;
/** Int32 word: the ring's capacity in bytes (a power of two). */
export const kCapacity = 34;
/** Int32 word: the last subscription number handed out (ids are `sub.N`). */
export const kNextSubscription = 35;
/** Int32 word: the last client number handed out (0 is the thread that started the bus). */
export const kNextClient = 36;
/** Int32 word: the dispatcher's state, see DispatcherState. */
export const kDispatcherState = 37;
/** Int32 word: maxSubscribers, so every thread sees the same cap. */
export const kMaxSubscribers = 38;
/** Int32 word: maxClients (threads that may attach, the starting one included). */
export const kMaxClients = 39;
/** Int32 words: abort flags of signalled sends, one per slot (0 free, else the send's even ticket; +1 once aborted). */
export const kAbortSlots = 64;
export const ABORT_SLOTS = 256;
/** Size of the Int32 header in words. */
export const HEADER_WORDS = kAbortSlots + ABORT_SLOTS;

export const DispatcherState = { starting: 0, running: 1, finished: 2, failed: 3 } as const;

/** Positions are 30-bit counters; bit 30 of the tail word marks the ring closed (set by Stop's claim). */
export const POSITION_MASK = 0x3fff_ffff;
export const CLOSED_BIT = 0x4000_0000;

/** Float64 counters written by the dispatcher only (one writer each: no atomics needed). */
export const kDelivered = 0;
export const kDispatcherDropped = 1;
export const kDroppedOnStop = 2;
export const kAborted = 3;
export const kSubscriptions = 4;
export const kConsumedRecords = 5;
export const kLostSubscribers = 6;
export const DISPATCHER_COUNTERS = 8;

/** Float64 counters per client (thread), written by that client only. */
export const kClientSent = 0;
export const kClientRefused = 1;
export const kClientPublished = 2;
export const kClientDropped = 3;
export const CLIENT_COUNTERS = 4;

/**
 * Float64 counters per subscription slot, written by the dispatcher only, so a subscription's
 * stats() on its own thread is exact even while a batch is still in flight to it.
 */
export const kSlotDropped = 0;
export const kSlotDelivered = 1;
export const SLOT_COUNTERS = 2;

export interface SharedLayout {
  readonly capacity: number;
  readonly maxSubscribers: number;
  readonly maxClients: number;
  /** Byte offset of the Float64 counters: dispatcher, then clients, then SLOT_COUNTERS per subscription slot. */
  readonly countersOffset: number;
  readonly counterCount: number;
  /** Byte offset of the ring's data. */
  readonly ringOffset: number;
  readonly byteLength: number;
}

export function sharedLayout(capacity: number, maxSubscribers: number, maxClients: number): SharedLayout {
  const countersOffset = HEADER_WORDS * 4;
  const counterCount = DISPATCHER_COUNTERS + maxClients * CLIENT_COUNTERS + maxSubscribers * SLOT_COUNTERS;
  const ringOffset = align(countersOffset + counterCount * 8, 64);
  return {
    capacity,
    maxSubscribers,
    maxClients,
    countersOffset,
    counterCount,
    ringOffset,
    byteLength: ringOffset + capacity,
  };
}

export function align(value: number, to: number): number {
  return (value + to - 1) & ~(to - 1);
}
