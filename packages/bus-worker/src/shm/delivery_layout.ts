/**
 * The shared-memory layout of per-thread delivery, in one place (after Agrona's RecordDescriptor):
 * every word either side reads or writes is named here, with who writes it.
 *
 * Each subscribing thread (client) owns two kinds of SharedArrayBuffer, both created on that
 * thread and sent to the dispatcher by postMessage:
 * - one delivery ring: a header, then a single-producer (dispatcher), single-consumer (the thread)
 *   ring of entries (see ENTRY_* below and delivery/entries.ts);
 * - slot pages: SLOT_PAGE_SLOTS subscription slots each, a slot being the shared state of one
 *   subscription of that thread (what its consumer took, what drop-oldest asked it to skip, its
 *   counters). Pages are added as the thread's subscriptions grow; a slot is reused once the
 *   thread has read the END entry of the subscription that held it.
 */

// --- delivery ring header (Int32 words) -------------------------------------------------------
// Each side's hot word sits on a 64-byte cache line of its own.

/** Dispatcher: bytes written so far (a 30-bit position, see POSITION_MASK). */
export const RING_WRITE_POSITION = 0;
/** Thread: bytes copied out and freed so far. */
export const RING_READ_POSITION = 16;
/** Thread: 1 while one of its consumers waits for events; the dispatcher clears it and posts a wake. */
export const RING_WAKE_WANTED = 32;
/** Dispatcher: 1 while it waits on this thread (room for a "block" subscription, or a backlog to move). */
export const RING_WRITER_WAITING = 33;
/** Dispatcher: 1 once it posted a wake asking the thread to drain (a backlog); the thread clears it. */
export const RING_DRAIN_POSTED = 34;
/** Dispatcher: 1 if a last batch of entries follows on the port, after the ring's (2 once read). */
export const RING_TAIL = 35;
/** Creator: the ring's capacity in bytes (a power of two). */
export const RING_CAPACITY = 36;
/** Bytes before the ring's data. */
export const RING_HEADER_BYTES = 256;

/** Positions are 30-bit byte counters that wrap, as the bus ring's (defined once, there). */
export { POSITION_MASK } from "./bus_header_layout.js";

/** A thread's delivery ring, shared by all of its subscriptions (only touched pages are resident). Correct at any power of two (busy_thread.test.ts and attach.test.ts pass at 64 KiB); 1 MiB lets a busy thread fall behind by more before the backlog is used. */
export const DELIVERY_RING_BYTES = 1 << 20;

/** The message on a thread's delivery port that wakes it (entries too large for the ring travel as ArrayBuffers). */
export const WAKE = 0;

// --- entries (Int32 words, 4-byte aligned, contiguous) -----------------------------------------

/** Word 0 of an entry: the body's byte length (>= 0), or one of the markers below. */
export const ENTRY_LENGTH = 0;
/** Word 1 of an event entry: how many subscription slots it is for; then the slots, then the body. */
export const ENTRY_SLOT_COUNT = 1;
export const ENTRY_SLOTS = 2;
/** Word 1 of an END entry: the slot whose subscription ended (no entry for it follows). */
export const ENTRY_END_SLOT = 1;
/** The rest of the ring's lap is padding: the next entry starts at position 0. */
export const PAD = -2;
/** An entry too large for the ring: the whole entry (from word 0) travels by postMessage. */
export const JUMBO = -1;
/** A subscription of this thread ended. */
export const END = -3;
export const END_ENTRY_BYTES = 8;

// --- slot pages --------------------------------------------------------------------------------

export const SLOT_PAGE_SLOTS = 1024;
/** Int32 words per slot, from slot * SLOT_WORDS. */
export const SLOT_WORDS = 8;
/** Thread: events handed to the consumer (skipped ones included), so far. */
export const SLOT_CONSUMED = 0;
/** Thread: drop-oldest skips applied so far. */
export const SLOT_SKIPPED = 1;
/** Thread: 1 while the subscription closes: it takes what is in flight past its bufferSize. */
export const SLOT_CLOSING = 2;
/** Dispatcher (drop-oldest): the oldest events the thread must skip, so far. */
export const SLOT_SKIP_REQUESTED = 4; // on the slot's second half: the other writer
/** Float64 counters per slot (dispatcher), from SLOT_COUNTERS_BYTE + slot * SLOT_COUNTER_WORDS * 8. */
export const SLOT_DELIVERED = 0;
export const SLOT_DROPPED = 1;
export const SLOT_COUNTER_WORDS = 2;
export const SLOT_COUNTERS_BYTE = SLOT_PAGE_SLOTS * SLOT_WORDS * 4;
export const SLOT_PAGE_BYTES = SLOT_COUNTERS_BYTE + SLOT_PAGE_SLOTS * SLOT_COUNTER_WORDS * 8;

/** Views of one slot page, the same on both sides. */
export interface SlotPage {
  readonly words: Int32Array;
  readonly counters: Float64Array;
}

export function slotPage(buffer: SharedArrayBuffer): SlotPage {
  return {
    words: new Int32Array(buffer, 0, SLOT_COUNTERS_BYTE >> 2),
    counters: new Float64Array(buffer, SLOT_COUNTERS_BYTE, SLOT_PAGE_SLOTS * SLOT_COUNTER_WORDS),
  };
}

/** Word index of `field` of `slot` within its page's words. */
export function slotWord(slot: number, field: number): number {
  return (slot % SLOT_PAGE_SLOTS) * SLOT_WORDS + field;
}

/** Index of `counter` of `slot` within its page's counters. */
export function slotCounter(slot: number, counter: number): number {
  return (slot % SLOT_PAGE_SLOTS) * SLOT_COUNTER_WORDS + counter;
}

export function pageOf(slot: number): number {
  return Math.floor(slot / SLOT_PAGE_SLOTS);
}

/** Bytes an event entry takes in the ring (jumbo or not, before the JUMBO decision). */
export function eventEntryBytes(slotCount: number, bodyBytes: number): number {
  return 4 * (ENTRY_SLOTS + slotCount) + ((bodyBytes + 3) & ~3);
}
