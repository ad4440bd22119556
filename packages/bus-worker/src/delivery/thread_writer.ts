import type { MessagePort } from "node:worker_threads";
import {
  END,
  END_ENTRY_BYTES,
  ENTRY_SLOTS,
  eventEntryBytes,
  JUMBO,
  pageOf,
  RING_DRAIN_POSTED,
  RING_TAIL,
  RING_WAKE_WANTED,
  RING_WRITER_WAITING,
  type SlotPage,
  slotPage,
  WAKE,
} from "../shm/delivery_layout.js";
import { SpscWriter } from "./spsc_ring.js";
import type { SubscriptionSlot } from "./subscription_slot.js";

export interface ThreadWriterOptions {
  client: number;
  ring: SharedArrayBuffer;
  /** The thread's delivery port: wakes, and the bytes of entries too large for the ring. */
  port: MessagePort;
  /** Called when the port closes while the thread still had subscriptions (its thread died). */
  onGone: () => void;
}

/**
 * The dispatcher's end of one subscribing thread: one ring for all of its subscriptions. Each
 * matched event is written once, with the slots of the thread's subscriptions it is for (the
 * dispatcher collects them with add(), then calls writeEvent()). Only the dispatcher calls these.
 *
 * When the ring has no room (the thread's event loop is busy elsewhere: it drains the ring into
 * its subscriptions' local queues whenever one of them waits or is asked to), the event goes into
 * a backlog here instead, behind which every later entry waits, so order holds:
 * - "drop-newest" subscriptions drop it (no room), counted;
 * - "drop-oldest" and "block" ones keep it in the backlog (each one's bufferSize bounds how many
 *   it can have there). The dispatcher does not wait for the thread here: a "block" subscription
 *   holds it only once its bufferSize is full (SubscriptionSlot.full). Waiting on a merely full
 *   ring would make the dispatcher depend on the thread's event loop, and a thread whose loop is
 *   busy retrying sends that the dispatcher's wait keeps failing would never drain: a deadlock.
 * What a backlog still holds when the thread's last subscription ends follows as one last batch
 * by postMessage (RING_TAIL).
 */
export class ThreadWriter {
  readonly client: number;
  readonly port: MessagePort;
  readonly pages: SlotPage[] = [];
  readonly #ring: SpscWriter;
  readonly #maxEntryBytes: number;
  /** The event being collected: the subscriptions it goes to on this thread. */
  #subs: SubscriptionSlot[] = [];
  #count = 0;
  /** Entries that found no room, oldest first, whole (words from ENTRY_LENGTH on). */
  #backlog: Int32Array<ArrayBuffer>[] = [];
  #dirty = false;
  /** On the dispatcher's list of threads to publish after the pass. */
  listed = false;
  /** Set when the thread left (detach, stop): a closing port is then no death. */
  gone = false;

  constructor(options: ThreadWriterOptions) {
    this.client = options.client;
    this.port = options.port;
    this.#ring = new SpscWriter(options.ring);
    this.#maxEntryBytes = this.#ring.capacity >> 2;
    this.port.once("close", () => {
      if (!this.gone) options.onGone();
    });
  }

  addPage(index: number, buffer: SharedArrayBuffer): void {
    this.pages[index] = slotPage(buffer);
  }

  /** The page of `slot`, if the thread sent it already. */
  page(slot: number): SlotPage | undefined {
    return this.pages[pageOf(slot)];
  }

  get hasBacklog(): boolean {
    return this.#backlog.length > 0;
  }

  get collecting(): boolean {
    return this.#count > 0;
  }

  /** The current event goes to `sub` too. */
  add(sub: SubscriptionSlot): void {
    this.#subs[this.#count++] = sub;
  }

  /**
   * Writes the collected event (its body at word `body` of `source`, `bodyBytes` long) for the
   * subscriptions added since the last call. `force` (stop's timeout): nothing is dropped.
   */
  writeEvent(source: Int32Array, body: number, bodyBytes: number, force = false): void {
    let count = this.#count;
    const subs = this.#subs;
    this.#count = 0;
    this.#dirty = true;
    const size = eventEntryBytes(count, bodyBytes);
    if (this.#backlog.length === 0) {
      const jumbo = size > this.#maxEntryBytes;
      const at = this.#ring.claim(jumbo ? 4 : size);
      if (at >= 0) {
        const words = this.#ring.words;
        if (jumbo) {
          const entry = entryCopy(subs, count, source, body, bodyBytes);
          // Posted before the entry is published, so it is queued by the time the thread sees the entry.
          this.port.postMessage(entry.buffer, [entry.buffer]);
          words[at] = JUMBO;
          this.#ring.commit(4);
        } else {
          let to = at;
          words[to++] = bodyBytes;
          words[to++] = count;
          for (let i = 0; i < count; i++) {
            const sub = subs[i]!;
            words[to++] = sub.slot;
            sub.accepted();
          }
          const end = body + ((bodyBytes + 3) >> 2);
          // A word loop: ~10 ns for a 100-byte body, where TypedArray#set needs a subarray view per call.
          for (let from = body; from < end; from++) words[to++] = source[from]!;
          this.#ring.commit(size);
        }
        if (jumbo) for (let i = 0; i < count; i++) subs[i]!.accepted();
        return;
      }
    }
    // No room: drop-newest drops, the others wait in the backlog.
    if (!force) {
      let kept = 0;
      for (let i = 0; i < count; i++) {
        const sub = subs[i]!;
        if (sub.overflow === "drop-newest") sub.countDrop();
        else subs[kept++] = sub;
      }
      count = kept;
    }
    if (count === 0) return;
    for (let i = 0; i < count; i++) subs[i]!.accepted();
    this.#backlog.push(entryCopy(subs, count, source, body, bodyBytes));
    this.#askToDrain();
  }

  /** The subscription in `slot` ended: no entry for it follows. Never dropped. */
  writeEnd(slot: number): void {
    this.#dirty = true;
    if (this.#backlog.length === 0) {
      const at = this.#ring.claim(END_ENTRY_BYTES);
      if (at >= 0) {
        this.#ring.words[at] = END;
        this.#ring.words[at + 1] = slot;
        this.#ring.commit(END_ENTRY_BYTES);
        return;
      }
    }
    this.#backlog.push(Int32Array.of(END, slot));
    this.#askToDrain();
  }

  /** Moves backlog entries into the ring while they fit; true if some remain. */
  pumpBacklog(): boolean {
    const backlog = this.#backlog;
    let moved = 0;
    while (moved < backlog.length && this.#writeWhole(backlog[moved]!)) moved++;
    if (moved > 0) {
      backlog.splice(0, moved);
      this.#dirty = true;
    }
    if (backlog.length > 0) this.#askToDrain();
    return backlog.length > 0;
  }

  /** True once the oldest backlog entry would fit. */
  backlogFits(): boolean {
    const first = this.#backlog[0];
    if (first === undefined) return true;
    const bytes = first.byteLength > this.#maxEntryBytes ? 4 : first.byteLength;
    return this.#ring.fits(bytes);
  }

  /** Asks the thread to wake the dispatcher when it frees room or consumes (see ThreadReader). */
  askForRoom(): void {
    Atomics.store(this.#ring.header, RING_WRITER_WAITING, 1);
  }

  /** Makes this pass's entries visible, and wakes the thread if one of its consumers waits. */
  publish(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const header = this.#ring.header;
    this.#ring.publish();
    if (Atomics.load(header, RING_WAKE_WANTED) !== 0) {
      Atomics.store(header, RING_WAKE_WANTED, 0);
      this.port.postMessage(WAKE);
    }
  }

  /**
   * The thread leaves (detach, stop): what the backlog still holds follows by postMessage, as one
   * last batch behind the ring's entries, so every accepted event is still delivered.
   */
  end(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.#backlog.length > 0 && this.pumpBacklog()) {
      let words = 0;
      for (const entry of this.#backlog) words += entry.length;
      const tail = new Int32Array(words);
      let at = 0;
      for (const entry of this.#backlog) {
        tail.set(entry, at);
        at += entry.length;
      }
      this.#backlog = [];
      this.port.postMessage(tail.buffer, [tail.buffer]);
      Atomics.store(this.#ring.header, RING_TAIL, 1);
    }
    this.#dirty = true;
    this.publish();
    this.port.postMessage(WAKE);
  }

  #writeWhole(entry: Int32Array<ArrayBuffer>): boolean {
    const bytes = entry.byteLength;
    const jumbo = bytes > this.#maxEntryBytes;
    const at = this.#ring.claim(jumbo ? 4 : bytes);
    if (at < 0) return false;
    if (jumbo) {
      this.port.postMessage(entry.buffer, [entry.buffer]);
      this.#ring.words[at] = JUMBO;
      this.#ring.commit(4);
    } else {
      this.#ring.words.set(entry, at);
      this.#ring.commit(bytes);
    }
    return true;
  }

  /** A backlog waits: the thread drains on this wake even if none of its consumers waits. */
  #askToDrain(): void {
    const header = this.#ring.header;
    Atomics.store(header, RING_WRITER_WAITING, 1);
    if (Atomics.exchange(header, RING_DRAIN_POSTED, 1) === 0) this.port.postMessage(WAKE);
  }
}

/** A whole event entry, as its own array (for the backlog, or to travel by postMessage). */
function entryCopy(
  subs: SubscriptionSlot[],
  count: number,
  source: Int32Array,
  body: number,
  bodyBytes: number,
): Int32Array<ArrayBuffer> {
  const entry = new Int32Array(eventEntryBytes(count, bodyBytes) >> 2);
  entry[0] = bodyBytes;
  entry[1] = count;
  for (let i = 0; i < count; i++) entry[ENTRY_SLOTS + i] = subs[i]!.slot;
  entry.set(source.subarray(body, body + ((bodyBytes + 3) >> 2)), ENTRY_SLOTS + count);
  return entry;
}
