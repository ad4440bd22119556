import { utf8Slice, utf8Write } from "./fast_buffer.js";

/**
 * The shared name table: system and kind strings interned once for every thread of a bus, so a
 * send record carries two small ids instead of two strings. The dispatcher then routes on a
 * numeric (system, kind) key and subscribers get the same string objects back without decoding.
 *
 * An open-addressed table of NAME_SLOTS entries in shared memory plus an append-only arena of
 * UTF-8 bytes, both fixed in size: memory stays bounded whatever the stream. A name that does not
 * fit (too long, table three quarters full, arena spent) is simply not interned: the record
 * carries it inline, as every name did before this table existed.
 *
 * Lock-free and safe against a thread that dies mid-insert: an entry is claimed by CAS, written,
 * then published by storing its hash tag; readers skip an entry still being claimed rather than
 * wait for it. Two threads interning one name at the same moment may give it two ids, which is
 * harmless: both resolve to the same string.
 */
export const NAME_SLOTS = 4096;
const ARENA_BYTES = 128 * 1024;
/** Longer names stay inline: a table of long, one-off names would fill up for nothing. */
export const MAX_NAME_BYTES = 255;
const MAX_PROBES = 32;
const MAX_LOCAL = 8192;

const kCursor = 0;
const kCount = 1;
const ENTRIES_WORD = 16;
/** Entry state: 0 empty, CLAIMING while written, DEAD if the writer gave up, else the hash tag (odd, > 0). */
const CLAIMING = -1;
const DEAD = -2;

/** Bytes the table takes in the shared buffer. */
export const NAME_TABLE_BYTES = (ENTRIES_WORD + NAME_SLOTS * 2) * 4 + ARENA_BYTES;

export class NameTable {
  readonly #words: Int32Array;
  readonly #arena: Buffer;
  readonly #scratch = Buffer.allocUnsafeSlow(MAX_NAME_BYTES * 3);
  /** This thread's view: name -> id (or -1), and id -> name. */
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];

  constructor(buffer: SharedArrayBuffer, offset: number) {
    this.#words = new Int32Array(buffer, offset, ENTRIES_WORD + NAME_SLOTS * 2);
    this.#arena = Buffer.from(buffer, offset + (ENTRIES_WORD + NAME_SLOTS * 2) * 4, ARENA_BYTES);
  }

  /** Names interned so far (by every thread). */
  get size(): number {
    return Atomics.load(this.#words, kCount);
  }

  /** The id of `name`, interning it on first use; -1 if it cannot be interned. */
  intern(name: string): number {
    const id = this.#ids.get(name);
    if (id !== undefined) return id;
    const found = this.#insert(name);
    if (this.#ids.size >= MAX_LOCAL) this.#ids.clear();
    this.#ids.set(name, found);
    if (found >= 0) this.#names[found] = name;
    return found;
  }

  /** The name behind an id read from a record (any thread). */
  name(id: number): string {
    const cached = this.#names[id];
    if (cached !== undefined) return cached;
    const words = this.#words;
    if (id < 0 || id >= NAME_SLOTS || Atomics.load(words, ENTRIES_WORD + 2 * id) <= 0)
      throw new Error(`threadbus: unknown name id ${id} in a record`);
    const packed = words[ENTRIES_WORD + 2 * id + 1]!;
    const start = packed >>> 8;
    const name = utf8Slice(this.#arena, start, start + (packed & 0xff));
    this.#names[id] = name;
    return name;
  }

  #insert(name: string): number {
    if (name.length > MAX_NAME_BYTES) return -1;
    const length = utf8Write(this.#scratch, name, 0, this.#scratch.byteLength);
    if (length > MAX_NAME_BYTES) return -1;
    const scratch = this.#scratch;
    let hash = 0x811c9dc5;
    for (let i = 0; i < length; i++) hash = Math.imul(hash ^ scratch[i]!, 16777619);
    const tag = (hash & 0x7fff_fffe) | 1;
    const words = this.#words;
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const slot = (hash + probe) & (NAME_SLOTS - 1);
      const at = ENTRIES_WORD + 2 * slot;
      const state = Atomics.load(words, at);
      if (state === tag && this.#equals(words[at + 1]!, length)) return slot;
      if (state !== 0) continue; // another name, one being written, or a dead entry
      if (Atomics.load(words, kCount) >= (NAME_SLOTS * 3) >> 2) return -1;
      if (Atomics.compareExchange(words, at, 0, CLAIMING) !== 0) {
        probe--; // someone took this entry: look at it again
        continue;
      }
      const start = Atomics.add(words, kCursor, length);
      if (start + length > ARENA_BYTES) {
        Atomics.store(words, at, DEAD);
        return -1;
      }
      scratch.copy(this.#arena, start, 0, length);
      words[at + 1] = (start << 8) | length;
      Atomics.add(words, kCount, 1);
      Atomics.store(words, at, tag);
      return slot;
    }
    return -1;
  }

  #equals(packed: number, length: number): boolean {
    if ((packed & 0xff) !== length) return false;
    const start = packed >>> 8;
    const arena = this.#arena;
    const scratch = this.#scratch;
    for (let i = 0; i < length; i++) if (arena[start + i] !== scratch[i]) return false;
    return true;
  }
}
