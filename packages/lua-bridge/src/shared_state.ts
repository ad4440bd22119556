/**
 * The memory a LuaHost shares with its engine threads: the pid counter (every thread allocates
 * pids from it, so pids are unique across engines), the bus's closed flag for port-bridged buses,
 * per engine what the watchdog reads (whether the engine is busy, since when, and which process
 * it is resuming), and per engine which systems its processes subscribe to (the bridge forwards
 * only events some subscription may match).
 *
 * Layout: Int32 words [nextPid, busClosed, pad, pad, then per engine: state, pid, pad, pad, then
 * per engine: wildcard count, 255 bucket counts], then one Float64 per engine: the time (ms,
 * `performance.timeOrigin + performance.now()`, the same clock on every thread) its current busy
 * stretch began, then the place table: one BigInt64 per slot, `pid * 128 + (engine + 1)` while
 * the process is starting or running on that engine, `pid * 128` once it ended.
 */
export const EngineState = {
  /** Waiting for work (the engine's event loop is idle). */
  idle: 0,
  /** Running JS work: routing events, handling a message, between resumes of a tick. */
  busy: 1,
  /** Inside a Lua resume of the process in the pid word. */
  resuming: 2,
} as const;
export type EngineState = (typeof EngineState)[keyof typeof EngineState];

const kNextPid = 0;
const kBusClosed = 1;
const kHeaderWords = 4;
const kWordsPerEngine = 4;
const kState = 0;
const kPid = 1;
/** Interest words per engine: [0] subscriptions whose system starts with a wildcard, [1..] per bucket. */
const kInterestWords = 256;

/**
 * Slots of the place table. A pid's slot is `pid % kPlaceSlots`, so the table remembers the last
 * 4096 pids: enough for a message to a process still starting (its spawn is on its way to its
 * engine) to find where it will run, and for one to a recently ended process to be refused at once.
 */
const kPlaceSlots = 4096;
const kEngineBits = 128n;

/** Where a pid is, as far as the place table remembers. */
export type Place =
  | { readonly state: "running"; readonly engine: number }
  | { readonly state: "ended" }
  | { readonly state: "unknown" };

const kUnknown: Place = { state: "unknown" };
const kEnded: Place = { state: "ended" };

/** A clock shared by every thread of the process (ms). */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

export class SharedState {
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #since: Float64Array;
  readonly #places: BigInt64Array;
  /** Index of engine 0's first interest word. */
  readonly #interest: number;

  constructor(buffer: SharedArrayBuffer, engines: number) {
    this.buffer = buffer;
    const intBytes = intBytesFor(engines);
    this.#words = new Int32Array(buffer, 0, intBytes / 4);
    this.#since = new Float64Array(buffer, intBytes, engines);
    this.#places = new BigInt64Array(buffer, intBytes + engines * 8, kPlaceSlots);
    this.#interest = kHeaderWords + engines * kWordsPerEngine;
  }

  static create(engines: number): SharedState {
    return new SharedState(
      new SharedArrayBuffer(intBytesFor(engines) + engines * 8 + kPlaceSlots * 8),
      engines,
    );
  }

  /** Any thread: a fresh pid (1, 2, 3, ...). */
  nextPid(): number {
    return Atomics.add(this.#words, kNextPid, 1) + 1;
  }

  /** Any thread: the highest pid handed out so far. */
  get allocatedPids(): number {
    return Atomics.load(this.#words, kNextPid);
  }

  /** Any thread, before anyone can learn the pid: the process will run on `engine`. */
  placed(pid: number, engine: number): void {
    Atomics.store(this.#places, pid % kPlaceSlots, BigInt(pid) * kEngineBits + BigInt(engine + 1));
  }

  /** Any thread: the process ended (idempotent; a slot taken over by a later pid is left alone). */
  ended(pid: number): void {
    const slot = pid % kPlaceSlots;
    const value = Atomics.load(this.#places, slot);
    if (value / kEngineBits === BigInt(pid)) {
      Atomics.compareExchange(this.#places, slot, value, BigInt(pid) * kEngineBits);
    }
  }

  /** Any thread: where `pid` runs, whether it ended, or "unknown" once its slot was reused. */
  place(pid: number): Place {
    const value = Atomics.load(this.#places, pid % kPlaceSlots);
    if (value / kEngineBits !== BigInt(pid)) return kUnknown;
    const engine = Number(value % kEngineBits);
    return engine === 0 ? kEnded : { state: "running", engine: engine - 1 };
  }

  get busClosed(): boolean {
    return Atomics.load(this.#words, kBusClosed) === 1;
  }

  /** Host thread: publishes the in-thread bus's `closed` to the engines that bridge it. */
  set busClosed(closed: boolean) {
    Atomics.store(this.#words, kBusClosed, closed ? 1 : 0);
  }

  /** Engine thread: starts a stretch of JS work (or goes on with one after a resume). */
  busy(engine: number): void {
    this.#since[engine] = sharedNow();
    Atomics.store(this.#words, word(engine, kPid), 0);
    Atomics.store(this.#words, word(engine, kState), EngineState.busy);
  }

  /** Engine thread: a Lua resume of `pid` begins. */
  resuming(engine: number, pid: number): void {
    this.#since[engine] = sharedNow();
    Atomics.store(this.#words, word(engine, kPid), pid);
    Atomics.store(this.#words, word(engine, kState), EngineState.resuming);
  }

  /** Engine thread: back to the event loop. */
  idle(engine: number): void {
    Atomics.store(this.#words, word(engine, kState), EngineState.idle);
    Atomics.store(this.#words, word(engine, kPid), 0);
  }

  /**
   * Engine thread: a subscription to `system` (a pattern) was added (+1) or removed (-1). Called
   * before events.subscribe returns, so the bridge forwards every event sent after anyone could
   * know of the subscription.
   */
  interest(engine: number, system: string, delta: 1 | -1): void {
    Atomics.add(this.#words, this.#interest + engine * kInterestWords + interestWord(system, true), delta);
  }

  /** Host thread (bridge): may a subscription of the engine match an event of `system`? */
  interested(engine: number, system: string): boolean {
    const base = this.#interest + engine * kInterestWords;
    return (
      Atomics.load(this.#words, base) > 0 || Atomics.load(this.#words, base + interestWord(system, false)) > 0
    );
  }

  /** Host thread: a fresh engine starts with no subscriptions. */
  resetInterest(engine: number): void {
    const base = this.#interest + engine * kInterestWords;
    for (let i = 0; i < kInterestWords; i++) Atomics.store(this.#words, base + i, 0);
  }

  /** Host thread (watchdog): what the engine is doing, since when, and for which process. */
  read(engine: number): { state: EngineState; pid: number; since: number } {
    const state = Atomics.load(this.#words, word(engine, kState)) as EngineState;
    return { state, pid: Atomics.load(this.#words, word(engine, kPid)), since: this.#since[engine]! };
  }
}

function intBytesFor(engines: number): number {
  return align8((kHeaderWords + engines * (kWordsPerEngine + kInterestWords)) * 4);
}

/** The interest word of a system's first segment: 0 for a wildcard, else its bucket (1..255). */
function interestWord(system: string, pattern: boolean): number {
  let end = system.indexOf(".");
  if (end < 0) end = system.length;
  let hash = 0x811c9dc5;
  for (let i = 0; i < end; i++) {
    const c = system.charCodeAt(i);
    if (pattern && (c === 42 || c === 40)) return 0; // "*" or "(": a wildcard segment
    hash = Math.imul(hash ^ c, 0x01000193);
  }
  return 1 + ((hash >>> 0) % (kInterestWords - 1));
}

function word(engine: number, field: number): number {
  return kHeaderWords + engine * kWordsPerEngine + field;
}

function align8(bytes: number): number {
  return (bytes + 7) & ~7;
}
