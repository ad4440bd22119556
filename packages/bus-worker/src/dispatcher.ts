import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { type IndexEntry, type PathFilter, SubscriptionIndex } from "@threadbus/core";
import { isAborted, releaseAbortSlot } from "./abort_slots.js";
import { ClientRegistry } from "./clients.js";
import { BodyNames, RecordReader } from "./codec.js";
import {
  DispatcherSleep,
  DispatcherState,
  kAborted,
  kConsumedRecords,
  kDelivered,
  kDispatcherDropped,
  kDispatcherState,
  kDroppedOnStop,
  kLostSubscribers,
  kMaxSubscribers,
  kNamesOffset,
  kSleeping,
  kSpaceSeq,
  kSpaceWaiters,
  kStopTimeoutMs,
  kSubscriptions,
  kTorn,
  kUnblockAfterMs,
  type SharedViews,
  sharedViews,
} from "./constants.js";
import { DeliveryWriter } from "./delivery.js";
import { IdlePolicy } from "./idle.js";
import { NAME_SLOTS, NameTable } from "./names.js";
import type { ClientMessage, DispatcherMessage, SerializedError } from "./protocol.js";
import { type PendingClaim, Ring } from "./ring.js";
import {
  BODY_KIND_ID,
  BODY_SYSTEM_ID,
  CONTROL_CLIENT,
  CONTROL_TOKEN,
  OVERFLOW_CODES,
  RecordType,
  SEND_ABORT_SLOT,
  SEND_BODY_WORD,
  SUBSCRIBE_BUFFER,
  SUBSCRIBE_NUMBER,
  SUBSCRIBE_OVERFLOW,
} from "./shm/record_layout.js";

type Entry = IndexEntry<DeliveryWriter>;

/** Records read per ring pass; between passes the dispatcher publishes to subscribers and may yield. */
const CHUNK = 1024;
/** The loop yields to its event loop (admin calls, port events) at least this often while busy. */
const YIELD_MS = 2;
/** Blocking sleep slices while traffic is recent; the event loop runs between them. */
const SLEEP_SLICE_MS = 2;
/** Without traffic for this long, the dispatcher sleeps in longer slices (IDLE_SLICE_MS). */
const IDLE_MS = 200;
const IDLE_SLICE_MS = 20;
/** A claim pending at the head this long (ms) stops being spun on: the dispatcher sleeps between looks. */
const CLAIM_SPIN_MS = 1;
/** kSleeping values (shm/bus_header_layout.ts): see #sleep. */
const { AWAKE, SLEEPING, BLOCKED } = DispatcherSleep;
/** Match results cached by interned (system, kind) ids before the cache starts over. */
const ID_CACHE_SIZE = 4096;

export interface DispatcherOptions {
  buffer: SharedArrayBuffer;
  /** The control port of client 0, the thread that started the bus. */
  control: MessagePort;
  slowSubscriberMs?: number;
  warn?: (message: string) => void;
}

/** Where the loop stopped inside a send because a "block" subscriber had no room. */
interface Blocked {
  offset: number;
  bodyBytes: number;
  entries: readonly Entry[];
  next: number;
  path: string | null;
  since: number;
  warned: boolean;
}

/** A claim seen pending at the head, and for how long (capped per look: see #watchClaim). */
interface ClaimWatch {
  position: number;
  length: number;
  stuckMs: number;
  lastLook: number;
}

/**
 * The consumer of the ring: reads records strictly in order, applies subscribe/unsubscribe/flush/
 * detach, routes sends with the core SubscriptionIndex and copies each into the delivery ring of
 * every matching subscription (delivery.ts). A "block" subscriber without room stops the loop
 * (the ring then fills and back-pressure reaches publishers); drop policies never stop it.
 *
 * Faults it survives: a thread that dies between claiming and publishing a record (the record is
 * skipped as torn at once if the thread is known dead, after unblockAfterMs otherwise), a
 * subscriber thread that dies (its subscriptions are removed), and a stop while a subscriber never
 * reads (stop's timeout drops and counts what is left).
 */
export class Dispatcher {
  readonly ring: Ring;
  readonly index = new SubscriptionIndex<DeliveryWriter>();
  readonly #views: SharedViews;
  readonly #header: Int32Array;
  readonly #counters: Float64Array;
  readonly #reader: RecordReader;
  readonly #names: BodyNames;
  readonly #clients: ClientRegistry;
  readonly #maxSubscribers: number;
  readonly #unblockAfterMs: number;
  readonly #ports = new Map<string, { port: MessagePort; ring: SharedArrayBuffer }>();
  readonly #touched: DeliveryWriter[] = [];
  readonly #backlogged = new Set<DeliveryWriter>();
  readonly #byIds = new Map<number, readonly Entry[]>();
  #byIdsGeneration = -1;
  readonly #slowMs: number;
  readonly #warn: (message: string) => void;
  readonly #idle = new IdlePolicy();
  /** Deliveries and policy drops, for the shared counters (published once per pass). */
  readonly totals = { delivered: 0, dropped: 0 };
  #blocked: Blocked | null = null;
  #claim: ClaimWatch | null = null;
  /** Set when the record at the head needs something that has not arrived yet (a port). */
  #stalled = false;
  /** performance.now() by which a stop must be done, once the ring was seen closed. */
  #stopDeadline = Number.POSITIVE_INFINITY;
  /** Stop's timeout expired: what is left is dropped and counted, not delivered. */
  #stopExpired = false;
  #finished = false;
  #eventsRead = 0;
  /** Subscriptions matched by system and kind, summed over routed sends: inspect()'s fan-out. */
  #matchedEntries = 0;
  #consumedBytes = 0;
  #lastTraffic = 0;
  readonly #startedAt = Date.now();
  readonly #onRecord = (type: number, offset: number, length: number) => this.#record(type, offset, length);

  constructor(options: DispatcherOptions) {
    this.ring = new Ring(options.buffer);
    this.#views = sharedViews(options.buffer);
    this.#header = this.#views.header;
    this.#counters = this.#views.counters;
    this.#reader = new RecordReader(this.ring.buffer, this.ring.words);
    this.#names = new BodyNames(new NameTable(options.buffer, Atomics.load(this.#header, kNamesOffset)));
    this.#maxSubscribers = Atomics.load(this.#header, kMaxSubscribers);
    this.#unblockAfterMs = Atomics.load(this.#header, kUnblockAfterMs);
    this.#slowMs = options.slowSubscriberMs ?? 5000;
    this.#warn = options.warn ?? ((message) => console.warn(message));
    this.#clients = new ClientRegistry(this.#views, () => this.ring.wake());
    this.#addClient(0, options.control);
  }

  get eventsRead(): number {
    return this.#eventsRead;
  }

  /** Subscriptions whose system and kind patterns matched, summed over every routed send. */
  get matchedEntries(): number {
    return this.#matchedEntries;
  }

  get uptimeMs(): number {
    return Date.now() - this.#startedAt;
  }

  get lostSubscribers(): number {
    return this.#counters[kLostSubscribers]!;
  }

  get blockedOn(): string | null {
    const blocked = this.#blocked;
    return blocked === null ? null : blocked.entries[blocked.next]!.value.id;
  }

  /** A snapshot for the admin API. */
  subscriptions(): DeliveryWriter[] {
    return [...this.index.entries()].map((entry) => entry.value);
  }

  /** Runs until the bus is stopped and the ring is drained (or stop's timeout expired). */
  async run(): Promise<void> {
    let lastYield = performance.now();
    let spins = 0;
    while (!this.#finished) {
      this.#stalled = false;
      if (this.ring.closed && this.#stopDeadline === Number.POSITIVE_INFINITY) this.#startStop();
      const read = this.ring.read(this.#onRecord, CHUNK);
      if (this.#backlogged.size > 0) this.#pumpBacklogs();
      this.#publish();
      const now = performance.now();
      if (now >= this.#stopDeadline && !this.#stopExpired) this.#expireStop();
      if (this.#blocked !== null) {
        await this.#waitForRoom(this.#blocked, now);
        lastYield = performance.now();
        continue;
      }
      if (read > 0) {
        this.#lastTraffic = now;
        this.#idle.busy(now);
        if (now - lastYield > YIELD_MS) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
        continue;
      }
      if (this.ring.hasClaimed()) {
        const claim = this.ring.pendingClaim();
        if (this.#stalled) {
          await yieldToEventLoop(); // a subscribe's port is on its way
          lastYield = performance.now();
        } else if (claim !== null) await this.#watchClaim(claim, now);
        continue;
      }
      this.#claim = null;
      if (this.ring.closed) {
        // Ordered stop: a drop-oldest backlog is delivered too, while the subscriber reads and time is left.
        if (this.#backlogged.size > 0 && !this.#stopExpired) {
          await this.#sleep(() => this.#backlogReady(), Math.max(1, this.#stopDeadline - now));
          continue;
        }
        this.#finish();
        return;
      }
      this.#idle.idle(now);
      if (this.#idle.spinLeftMs(now) > 0) {
        // Spin on the head record's first word alone (see Ring.hasWork), then take a full pass.
        for (let i = 0; i < 64 && !this.ring.hasWork(); i++) spins++;
        if ((spins & 0x3fff) < 64) {
          await yieldToEventLoop();
          lastYield = performance.now();
        }
        continue;
      }
      await this.#sleep(() => this.ring.hasClaimed() || this.ring.closed || this.#backlogReady(), IDLE_MS);
      lastYield = performance.now();
    }
  }

  // --- records ---------------------------------------------------------------------------------

  #record(type: number, offset: number, length: number): boolean {
    // A thread's control port reaches this worker by postMessage, its records through the ring:
    // the first record of a new thread can come first. Take the pending messages before replying.
    if (type !== RecordType.send && !this.#clients.has(this.#reader.word(offset, CONTROL_CLIENT)))
      this.#drainControlPorts();
    let done = true;
    switch (type) {
      case RecordType.send:
        if (offset === this.#deliveredAtExpiry) {
          this.#deliveredAtExpiry = -1;
          const abortSlot = this.#reader.word(offset, SEND_ABORT_SLOT);
          if (abortSlot >= 0) releaseAbortSlot(this.#header, abortSlot);
        } else done = this.#stopExpired ? this.#dropOnStop(offset) : this.#deliver(offset, length);
        break;
      case RecordType.subscribe:
        done = this.#subscribe(offset);
        break;
      case RecordType.unsubscribe: {
        const id = `sub.${this.#reader.word(offset, SUBSCRIBE_NUMBER)}`;
        this.#reply(offset, this.#remove(id) ? 1 : 0);
        break;
      }
      case RecordType.flush:
        this.#publish();
        this.#reply(offset, 0);
        break;
      case RecordType.detach: {
        const client = this.#reader.word(offset, CONTROL_CLIENT);
        for (const entry of [...this.index.entries()])
          if (entry.value.client === client) this.#remove(entry.id);
        this.#clients.detach(client);
        break;
      }
    }
    if (done) {
      this.#counters[kConsumedRecords]!++;
      this.#consumedBytes += length;
      // Word 2 is the client in every record type (SEND_CLIENT, CONTROL_CLIENT).
      this.#clients.read(this.#reader.word(offset, CONTROL_CLIENT), type === RecordType.send);
    }
    return done;
  }

  #deliver(offset: number, length: number): boolean {
    const words = this.ring.words;
    const body = (offset >> 2) + SEND_BODY_WORD;
    const bodyBytes = length - SEND_BODY_WORD * 4;
    let entries: readonly Entry[];
    let from = 0;
    let path: string | null = null;
    const blocked = this.#blocked;
    if (blocked !== null && blocked.offset === offset) {
      entries = blocked.entries;
      from = blocked.next;
      path = blocked.path;
      this.#blocked = null;
    } else {
      entries = this.#match(body);
      this.#eventsRead++;
      this.#matchedEntries += entries.length;
    }
    const abortSlot = words[(offset >> 2) + SEND_ABORT_SLOT]!;
    const touched = this.#touched;
    for (let i = from; i < entries.length; i++) {
      const entry = entries[i]!;
      const writer = entry.value;
      if (writer.removed) continue;
      if (entry.path !== null) {
        path ??= this.#reader.path(offset);
        if (!(entry.path as PathFilter).match(path)) continue;
      }
      if (abortSlot >= 0 && isAborted(this.#header, abortSlot)) {
        this.#skipAborted(entries, i, offset, path);
        break;
      }
      if (!writer.offer(words, body, bodyBytes)) {
        // Still blocked on the same subscriber: keep when it started (the slow-subscriber warning counts from there).
        if (blocked !== null && blocked.offset === offset && blocked.next === i) {
          blocked.path = path;
          this.#blocked = blocked;
        } else
          this.#blocked = {
            offset,
            bodyBytes,
            entries,
            next: i,
            path,
            since: performance.now(),
            warned: false,
          };
        return false;
      }
      if (!writer.listed) {
        writer.listed = true;
        touched.push(writer);
      }
      if (writer.hasBacklog) this.#backlogged.add(writer);
    }
    if (abortSlot >= 0) releaseAbortSlot(this.#header, abortSlot);
    return true;
  }

  /** The subscriptions matching a send body: by interned ids when it has them (a numeric key). */
  #match(body: number): readonly Entry[] {
    const words = this.ring.words;
    const systemId = words[body + BODY_SYSTEM_ID]!;
    const kindId = words[body + BODY_KIND_ID]!;
    if (systemId < 0 || kindId < 0) {
      this.#names.read(this.ring.buffer, words, body);
      return this.index.match(this.#names.system, this.#names.kind);
    }
    if (this.#byIdsGeneration !== this.index.generation) {
      this.#byIds.clear();
      this.#byIdsGeneration = this.index.generation;
    }
    const key = systemId * NAME_SLOTS + kindId;
    const cached = this.#byIds.get(key);
    if (cached !== undefined) return cached;
    this.#names.read(this.ring.buffer, words, body);
    const entries = this.index.match(this.#names.system, this.#names.kind);
    if (this.#byIds.size >= ID_CACHE_SIZE) this.#byIds.clear();
    this.#byIds.set(key, entries);
    return entries;
  }

  #skipAborted(entries: readonly Entry[], from: number, offset: number, path: string | null): void {
    for (let i = from; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.value.removed) continue;
      if (entry.path !== null) {
        path ??= this.#reader.path(offset);
        if (!entry.path.match(path)) continue;
      }
      entry.value.skipAborted();
      this.#counters[kAborted]!++;
      if (!entry.value.listed) {
        entry.value.listed = true;
        this.#touched.push(entry.value);
      }
    }
  }

  #dropOnStop(offset: number): boolean {
    this.#counters[kDroppedOnStop]!++;
    const abortSlot = this.#reader.word(offset, SEND_ABORT_SLOT);
    if (abortSlot >= 0) releaseAbortSlot(this.#header, abortSlot);
    return true;
  }

  #subscribe(offset: number): boolean {
    const reader = this.#reader;
    const client = reader.word(offset, CONTROL_CLIENT);
    const token = reader.word(offset, CONTROL_TOKEN);
    const taken = this.#takePort(client, token);
    if (taken === undefined) {
      this.#stalled = true;
      return false;
    }
    const { port, ring } = taken;
    if (this.index.size >= this.#maxSubscribers) {
      const max = this.#maxSubscribers;
      port.close();
      this.#replyError(offset, {
        code: "SUBSCRIBER_CAP",
        message: `subscriber cap reached: at most ${max} live subscriptions`,
        max,
      });
      return true;
    }
    const [system, kind, path] = reader.subscribeStrings(offset);
    const id = `sub.${reader.word(offset, SUBSCRIBE_NUMBER)}`;
    const overflow = OVERFLOW_CODES[reader.word(offset, SUBSCRIBE_OVERFLOW)]!;
    const bufferSize = reader.word(offset, SUBSCRIBE_BUFFER);
    const writer = new DeliveryWriter(
      id,
      system,
      kind,
      path ?? null,
      client,
      overflow,
      bufferSize,
      port,
      ring,
      this.totals,
    );
    writer.onGone = () => this.#lost(writer);
    this.index.insert(SubscriptionIndex.compile(id, system, kind, writer, path));
    this.#counters[kSubscriptions] = this.index.size;
    this.#reply(offset, 0);
    return true;
  }

  #remove(id: string): boolean {
    const entry = this.index.remove(id);
    if (entry === undefined) return false;
    const writer = entry.value;
    writer.end();
    this.#backlogged.delete(writer);
    this.#counters[kSubscriptions] = this.index.size;
    const removed: DispatcherMessage = { type: "removed", id };
    this.#clients.post(writer.client, removed);
    return true;
  }

  /** A subscriber whose port closed (its thread died) is removed and counted. */
  #lost(writer: DeliveryWriter): void {
    if (this.#remove(writer.id)) this.#counters[kLostSubscribers]!++;
    this.ring.wake();
  }

  // --- passes ----------------------------------------------------------------------------------

  /** Makes this pass's deliveries visible to subscribers, and the counters to every thread. */
  #publish(): void {
    // Counters before positions: whoever sees an event also sees the counters it moved.
    const counters = this.#counters;
    counters[kDelivered] = this.totals.delivered;
    counters[kDispatcherDropped] = this.totals.dropped;
    const touched = this.#touched;
    for (let i = 0; i < touched.length; i++) touched[i]!.publishCounters();
    for (let i = 0; i < touched.length; i++) {
      const writer = touched[i]!;
      writer.listed = false;
      writer.publish();
    }
    touched.length = 0;
    const header = this.#header;
    this.#clients.releaseDead(this.#consumedBytes, !this.ring.hasClaimed());
    if (Atomics.load(header, kSpaceWaiters) > 0 && this.ring.used <= this.ring.capacity >> 1)
      this.#announceSpace();
  }

  /** Wakes whoever waits for ring space: blocked sends (a futex), and ready() calls (a message). */
  #announceSpace(): void {
    const header = this.#header;
    Atomics.add(header, kSpaceSeq, 1);
    Atomics.notify(header, kSpaceSeq);
    const flags = this.#views.spaceFlags;
    const space: DispatcherMessage = { type: "space" };
    for (let client = 0; client < flags.length; client++)
      if (Atomics.load(flags, client) !== 0 && Atomics.exchange(flags, client, 0) !== 0)
        this.#clients.post(client, space);
  }

  #pumpBacklogs(): void {
    for (const writer of this.#backlogged) {
      if (!writer.pumpBacklog()) this.#backlogged.delete(writer);
      if (!writer.listed) {
        writer.listed = true;
        this.#touched.push(writer);
      }
    }
  }

  #backlogReady(): boolean {
    for (const writer of this.#backlogged) if (writer.backlogFits()) return true;
    return false;
  }

  /** Waits for room at the blocking subscriber, an abort of the send, its removal, or stop's timeout. */
  async #waitForRoom(blocked: Blocked, now: number): Promise<void> {
    const writer = blocked.entries[blocked.next]!.value;
    const abortSlot = this.#reader.word(blocked.offset, SEND_ABORT_SLOT);
    const ready = () =>
      writer.removed ||
      writer.hasRoom(blocked.bodyBytes) ||
      (abortSlot >= 0 && isAborted(this.#header, abortSlot)) ||
      performance.now() >= this.#stopDeadline;
    if (ready()) return;
    const elapsed = now - blocked.since;
    if (!blocked.warned && elapsed >= this.#slowMs) {
      blocked.warned = true;
      this.#warn(
        `threadbus: subscriber ${writer.id} (${writer.system} ${writer.kind || "*"}) has blocked the dispatcher for ${this.#slowMs} ms: its buffer of ${writer.bufferSize} is full; it is slow, or not iterated`,
      );
    }
    writer.askForRoom();
    const until = blocked.warned
      ? this.#stopDeadline - now
      : Math.min(this.#slowMs - elapsed, this.#stopDeadline - now);
    await this.#sleep(ready, Math.max(1, until), false);
  }

  // --- torn records ----------------------------------------------------------------------------

  /**
   * A claim is pending at the head. A live producer publishes within microseconds, so it is spun
   * on briefly, then looked at between short sleeps. It is skipped as torn when its thread is
   * known dead, or when it stayed pending for unblockAfterMs (stop's deadline, if sooner). Time
   * stuck is summed from looks at most 10 ms apart, so a process that was suspended (SIGSTOP, a
   * debugger) does not make every claim look ancient when it resumes.
   */
  async #watchClaim(claim: PendingClaim, now: number): Promise<void> {
    let watch = this.#claim;
    if (watch === null || watch.position !== claim.position || watch.length !== claim.length) {
      watch = { position: claim.position, length: claim.length, stuckMs: 0, lastLook: now };
      this.#claim = watch;
    } else {
      watch.stuckMs += Math.min(10, now - watch.lastLook);
      watch.lastLook = now;
    }
    const dead = claim.client >= 0 && this.#clients.isDead(claim.client);
    if (dead || watch.stuckMs >= this.#unblockAfterMs || now >= this.#stopDeadline) {
      if (this.ring.skipTorn(claim)) {
        this.#counters[kTorn]!++;
        const owner = claim.client >= 0 ? `thread ${claim.client}` : "a thread";
        const reason = dead ? "the thread died" : `it stayed unpublished for ${Math.round(watch.stuckMs)} ms`;
        this.#warn(
          `threadbus: skipped a record that ${owner} claimed and never published (${reason}); counted in stats().torn`,
        );
      }
      this.#claim = null;
      return;
    }
    if (watch.stuckMs < CLAIM_SPIN_MS) return;
    await this.#sleep(() => this.ring.pendingClaim()?.position !== claim.position, SLEEP_SLICE_MS);
  }

  // --- stop ------------------------------------------------------------------------------------

  #startStop(): void {
    this.#stopDeadline = performance.now() + Atomics.load(this.#header, kStopTimeoutMs);
  }

  /**
   * Stop's timeout expired (GUARANTEES rule 10): the event in delivery goes to its remaining
   * subscribers past their full buffers, and every send still in the ring is dropped whole and
   * counted in droppedOnStop.
   */
  #expireStop(): void {
    this.#stopExpired = true;
    const blocked = this.#blocked;
    if (blocked === null) return;
    this.#blocked = null;
    const words = this.ring.words;
    const body = (blocked.offset >> 2) + SEND_BODY_WORD;
    let path = blocked.path;
    for (let i = blocked.next; i < blocked.entries.length; i++) {
      const entry = blocked.entries[i]!;
      const writer = entry.value;
      if (writer.removed) continue;
      if (entry.path !== null) {
        path ??= this.#reader.path(blocked.offset);
        if (!entry.path.match(path)) continue;
      }
      writer.forceOffer(words, body, blocked.bodyBytes);
      if (!writer.listed) {
        writer.listed = true;
        this.#touched.push(writer);
      }
    }
    // It is still at the head: the next pass takes it as done, not as a send dropped on stop.
    this.#deliveredAtExpiry = blocked.offset;
  }

  /** The offset of the send #expireStop delivered, read once more by the next pass. */
  #deliveredAtExpiry = -1;

  #finish(): void {
    for (const entry of [...this.index.entries()]) this.#remove(entry.id);
    this.#publish();
    this.#finished = true;
    // Said in shared memory before anything else: the starting thread may see this worker exit
    // before it reads the "finished" message, and must not take the exit for a failure.
    Atomics.store(this.#header, kDispatcherState, DispatcherState.finished);
    this.#announceSpace();
    this.#clients.finish();
  }

  // --- clients and replies ---------------------------------------------------------------------

  #reply(offset: number, value: number): void {
    const message: DispatcherMessage = {
      type: "reply",
      token: this.#reader.word(offset, CONTROL_TOKEN),
      ok: true,
      value,
    };
    this.#clients.post(this.#reader.word(offset, CONTROL_CLIENT), message);
  }

  #replyError(offset: number, error: SerializedError): void {
    const message: DispatcherMessage = {
      type: "reply",
      token: this.#reader.word(offset, CONTROL_TOKEN),
      ok: false,
      error,
    };
    this.#clients.post(this.#reader.word(offset, CONTROL_CLIENT), message);
  }

  #takePort(client: number, token: number): { port: MessagePort; ring: SharedArrayBuffer } | undefined {
    const key = `${client}:${token}`;
    if (!this.#ports.has(key)) this.#drainControlPorts(); // posted before the record was written: queued
    const taken = this.#ports.get(key);
    this.#ports.delete(key);
    return taken;
  }

  /** Takes every message already queued on the control ports, without waiting for the event loop. */
  #drainControlPorts(): void {
    for (const port of [...this.#clients.ports()]) {
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port))
        this.#onClientMessage(m.message as ClientMessage);
    }
  }

  #addClient(client: number, port: MessagePort): void {
    this.#clients.add(
      client,
      port,
      (message: ClientMessage) => this.#onClientMessage(message),
      () => this.#consumedBytes + this.ring.used,
    );
  }

  #onClientMessage(message: ClientMessage): void {
    if (message.type === "client") this.#addClient(message.client, message.port);
    else this.#ports.set(`${message.client}:${message.token}`, { port: message.port, ring: message.ring });
  }

  // --- sleeping --------------------------------------------------------------------------------

  /**
   * Sleeps until someone with work for the dispatcher notifies (a publisher, a subscriber that
   * made room, stop, an abort), `ready()` turns true, or `timeoutMs` passes. It blocks in
   * Atomics.wait (a futex: a notify wakes it in a few µs) for slices of SLEEP_SLICE_MS while
   * traffic is recent, IDLE_SLICE_MS after IDLE_MS without any, and runs its event loop between
   * slices (admin calls, ports of new subscriptions, threads that died).
   *
   * Not Atomics.waitAsync: measured on Node 20, a waitAsync that a notify from another thread
   * woke sometimes stayed unresolved for seconds (until some message reached the thread), and a
   * finite timeout on it leaks. An idle dispatcher that wakes 50 times a second costs nothing
   * measurable.
   */
  async #sleep(ready: () => boolean, timeoutMs: number, publishWakes = true): Promise<void> {
    const header = this.#header;
    // SLEEPING: a publish wakes us. BLOCKED: only whoever can unblock us does (a subscriber, stop,
    // an abort), so publishers do not pay a notify (~3 µs) per send while we wait for room.
    const mark = publishWakes ? SLEEPING : BLOCKED;
    Atomics.store(header, kSleeping, mark);
    if (ready()) {
      Atomics.store(header, kSleeping, AWAKE);
      return;
    }
    const slice = performance.now() - this.#lastTraffic < IDLE_MS ? SLEEP_SLICE_MS : IDLE_SLICE_MS;
    const result = Atomics.wait(header, kSleeping, mark, Math.min(slice, timeoutMs));
    Atomics.store(header, kSleeping, AWAKE);
    if (result === "timed-out") await yieldToEventLoop();
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
