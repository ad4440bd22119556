import { ABORT_SLOTS, kAbortSlots } from "./constants.js";

/**
 * Abort flags of signalled sends, in shared memory: a send whose AbortSignal fires while the
 * dispatcher delivers it must skip its remaining subscribers, and the dispatcher cannot see an
 * AbortSignal of another thread. So a signalled send names a slot in its record, and the signal's
 * listener sets the slot's abort bit.
 *
 * A slot word packs [ticket: 20 bits][sends in flight: 10 bits][aborted: 1 bit]. All sends of one
 * signal from one thread share a slot while any of them is in flight (one listener per signal,
 * however many sends), so a tight loop of signalled sends neither runs out of slots nor piles
 * listeners on its signal. The dispatcher counts each send out after reading it, and frees the
 * slot with the last one. Every change is one CAS on the word, so the thread, the dispatcher and
 * the listener never race. The ticket ties a listener to its own use of the slot: a stale listener
 * (its slot freed and taken again) finds another ticket and does nothing.
 */
const TICKET_SHIFT = 11;
const COUNT_ONE = 2;
const COUNT_MAX = 1023;

function ticketOf(word: number): number {
  return word >>> TICKET_SHIFT;
}

function countOf(word: number): number {
  return (word >>> 1) & COUNT_MAX;
}

interface SlotUse {
  slot: number;
  ticket: number;
  listener: () => void;
}

/** One thread's side: takes slots for its signalled sends. */
export class AbortSlots {
  readonly #header: Int32Array;
  readonly #client: number;
  readonly #onAbort: () => void;
  readonly #bySignal = new WeakMap<AbortSignal, SlotUse>();
  #cursor = 0;
  #sequence = 0;

  /** `onAbort` wakes the dispatcher so it sees the flag at once. */
  constructor(header: Int32Array, client: number, onAbort: () => void) {
    this.#header = header;
    this.#client = client;
    this.#onAbort = onAbort;
  }

  /** A slot for one more send under `signal`, or -1 if every slot is taken. */
  take(signal: AbortSignal): number {
    const header = this.#header;
    const use = this.#bySignal.get(signal);
    if (use !== undefined) {
      for (;;) {
        const word = Atomics.load(header, kAbortSlots + use.slot);
        if (ticketOf(word) !== use.ticket || countOf(word) === COUNT_MAX) break;
        if (Atomics.compareExchange(header, kAbortSlots + use.slot, word, word + COUNT_ONE) === word)
          return use.slot;
      }
      signal.removeEventListener("abort", use.listener);
      this.#bySignal.delete(signal);
    }
    for (let tries = 0; tries < ABORT_SLOTS; tries++) {
      const slot = this.#cursor;
      this.#cursor = (slot + 1) % ABORT_SLOTS;
      if (Atomics.load(header, kAbortSlots + slot) !== 0) continue;
      const ticket = this.#nextTicket();
      if (Atomics.compareExchange(header, kAbortSlots + slot, 0, (ticket << TICKET_SHIFT) | COUNT_ONE) !== 0)
        continue;
      const listener = () => {
        for (;;) {
          const word = Atomics.load(header, kAbortSlots + slot);
          if (ticketOf(word) !== ticket) return;
          if (Atomics.compareExchange(header, kAbortSlots + slot, word, word | 1) === word) break;
        }
        this.#onAbort();
      };
      signal.addEventListener("abort", listener, { once: true });
      this.#bySignal.set(signal, { slot, ticket, listener });
      return slot;
    }
    return -1;
  }

  /** Gives back a slot taken for a send that was then not enqueued. */
  untake(slot: number): void {
    releaseAbortSlot(this.#header, slot);
  }

  /** The thread's own tickets carry its client number in their low 10 bits (see freeClientSlots). */
  #nextTicket(): number {
    for (;;) {
      this.#sequence = (this.#sequence + 1) & 0x3ff;
      const ticket = (this.#sequence << 10) | this.#client;
      if (ticket !== 0) return ticket;
    }
  }
}

/** Dispatcher: true if the send that named `slot` was aborted. */
export function isAborted(header: Int32Array, slot: number): boolean {
  return (Atomics.load(header, kAbortSlots + slot) & 1) === 1;
}

/** Dispatcher (or a thread giving back an untaken slot): one send of the slot is done. */
export function releaseAbortSlot(header: Int32Array, slot: number): void {
  for (;;) {
    const word = Atomics.load(header, kAbortSlots + slot);
    if (word === 0) return;
    const next = countOf(word) <= 1 ? 0 : word - COUNT_ONE;
    if (Atomics.compareExchange(header, kAbortSlots + slot, word, next) === word) return;
  }
}

/**
 * Dispatcher: frees the slots a dead thread still holds (its sends were torn, never read). Call
 * only once every record the thread published has been read.
 */
export function freeClientSlots(header: Int32Array, client: number): number {
  let freed = 0;
  for (let slot = 0; slot < ABORT_SLOTS; slot++) {
    const word = Atomics.load(header, kAbortSlots + slot);
    if (word !== 0 && (ticketOf(word) & 0x3ff) === client) {
      Atomics.store(header, kAbortSlots + slot, 0);
      freed++;
    }
  }
  return freed;
}
