/**
 * The layout of the one SharedArrayBuffer every thread of a WorkerBus shares (its header and
 * counters), after Agrona's RecordDescriptor: every word's name, place, writer and readers in one
 * file. The ring's records are described in record_layout.ts; the delivery rings, one buffer per
 * subscriber, in their own layout file. constants.ts computes the region offsets from these.
 *
 * Regions, in order (the creator writes their byte offsets into the header, so a handle needs
 * only the buffer):
 *
 *   bytes                        region
 *   0 .. HEADER_WORDS*4          Int32 header words (below), then the abort slots
 *   clientsOffset                Int32 per client: its state word (CLIENT_FREE, +nonce, -nonce)
 *   clientsOffset + 4*maxClients Int32 per client: 1 while its ready() waits for ring space
 *   namesOffset (64-aligned)     the shared name table (names.ts)
 *   countersOffset (64-aligned)  Float64 counters: the dispatcher's, then CLIENT_COUNTERS per client
 *   ringOffset (64-aligned)      the ring, `capacity` bytes (ring.ts, record_layout.ts)
 *
 * Header words (Int32 indices). The tail and the head sit on different 64-byte cache lines:
 * producers hammer the tail with CAS while the consumer stores the head, and sharing a line would
 * make each bounce the other's cache. The sleep word has a line of its own with words that change
 * rarely, so a publisher's look at it (once a send) stays a cache hit.
 *
 *   word   bytes    name               written by                        read by
 *   0      0-3      kTail              producers (CAS); stop (CLOSED_BIT) producers, dispatcher
 *   16     64-67    kHead              dispatcher                        producers (on a cached-head miss), stats
 *   32     128-131  kSleeping          dispatcher (DispatcherSleep);     publishers (wake if SLEEPING)
 *                                      publishers and wakers (AWAKE)
 *   33     132-135  kSpaceSeq          dispatcher (bump + notify)        blocked senders (futex wait)
 *   34     136-139  kCapacity          creator, once                     every thread
 *   35     140-143  kNextSubscription  subscribing threads (Atomics.add) subscribing threads
 *   36     144-147  kSpaceWaiters      blocked senders, ready() (add/sub) dispatcher
 *   37     148-151  kDispatcherState   dispatcher                        every thread
 *   38-39  152-159  kMaxSubscribers,   creator, once                     every thread
 *                   kMaxClients
 *   40-41  160-167  kMagic, kVersion   creator, once (magic last)        attach()
 *   42-45  168-183  region offsets     creator, once                     every thread
 *   46     184-187  kStopTimeoutMs     stop(), before it closes the ring dispatcher
 *   47     188-191  kUnblockAfterMs    creator, once                     dispatcher
 *   64..   256..    abort slots        senders, abort listeners,         dispatcher, senders
 *                   (ABORT_SLOTS)      dispatcher: CAS only (abort_slots.ts)
 *
 * Counters (Float64 indices from countersOffset; no atomics: one writer each). The dispatcher's
 * DISPATCHER_COUNTERS come first, written by the dispatcher only; then CLIENT_COUNTERS per client
 * thread, written by that thread only. Any thread reads them all for stats().
 */

/** Int32 word: producers' claim position (30 bits) plus CLOSED_BIT. Written only by CAS (and stop's OR). */
export const kTail = 0;
/** Int32 word: consumer's position; everything between head and tail is claimed. */
export const kHead = 16;
/** Int32 word: the dispatcher's sleep state, a DispatcherSleep value. */
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
/** Int32 words: byte offsets of the regions, written once by the creator. */
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

/** kDispatcherState values. */
export const DispatcherState = { starting: 0, running: 1, finished: 2, failed: 3 } as const;

/**
 * kSleeping values. SLEEPING: the dispatcher waits for records, so a publish wakes it (store
 * AWAKE, notify). BLOCKED: it waits for something else (room at a subscriber), so only that
 * subscriber, stop or an abort wakes it, and publishers do not pay a notify (~3 µs) a send.
 */
export const DispatcherSleep = { AWAKE: 0, SLEEPING: 1, BLOCKED: 2 } as const;

/** Positions are 30-bit counters; bit 30 of the tail word marks the ring closed (set by stop). */
export const POSITION_MASK = 0x3fff_ffff;
export const CLOSED_BIT = 0x4000_0000;

/**
 * Client state words (one per thread slot): 0 free; a positive nonce once bus.handle() reserved
 * the slot; the negated nonce once a thread attached with that handle. The dispatcher frees a
 * slot (stores 0) after the thread detached or died and every record it published was read.
 */
export const CLIENT_FREE = 0;
/** Int32 words per client slot: its state, then its flag "waits (asynchronously) for ring space". */
export const CLIENT_WORDS = 2;

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

/** Regions after the header start on a cache line of their own. */
export const REGION_ALIGNMENT = 64;
