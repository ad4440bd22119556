/**
 * The shared buffer's region offsets and the views every thread builds over it. What each word
 * means, and who writes and reads it, is in shm/bus_header_layout.ts; this file only computes
 * where the regions go and re-exports the layout, so older imports keep one definition.
 */
import {
  CLIENT_COUNTERS,
  CLIENT_WORDS,
  DISPATCHER_COUNTERS,
  HEADER_WORDS,
  kCapacity,
  kClientsOffset,
  kCountersOffset,
  kMagic,
  kMaxClients,
  kMaxSubscribers,
  kNamesOffset,
  kRingOffset,
  kUnblockAfterMs,
  kVersion,
  LAYOUT_VERSION,
  MAGIC,
  REGION_ALIGNMENT,
} from "./shm/bus_header_layout.js";

export * from "./shm/bus_header_layout.js";

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
  const namesOffset = align(clientsOffset + CLIENT_WORDS * maxClients * 4, REGION_ALIGNMENT);
  const countersOffset = align(namesOffset + namesBytes, REGION_ALIGNMENT);
  const counterCount = DISPATCHER_COUNTERS + maxClients * CLIENT_COUNTERS;
  const ringOffset = align(countersOffset + counterCount * 8, REGION_ALIGNMENT);
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
