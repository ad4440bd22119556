import v8 from "node:v8";
import { InvalidEventError } from "@threadbus/core";
import { Packr } from "msgpackr";
import { utf8Slice, utf8Write } from "./fast_buffer.js";
import { NameCache } from "./name_cache.js";
import { FRAME_BYTES } from "./ring.js";

/**
 * Records in the ring and entries in delivery batches.
 *
 * A record is a frame (length, type: written by Ring.publish) and Int32 header words, then UTF-8
 * strings and, for a send, the event's data as opaque bytes. The dispatcher routes on the header
 * and the system/kind strings only; `data` is copied to subscribers untouched and decoded by them.
 *
 * Data codec, chosen by measurement (Node 20, 2 vCPU; a 5-field object of ~80 JSON bytes):
 *   msgpackr (structuredClone) pack ~0.42 µs, unpack ~0.27 µs
 *   JSON.stringify + encodeInto  ~0.54 µs, decode + JSON.parse ~0.73 µs
 *   v8.serialize                 ~4.6 µs,  v8.deserialize ~2.4 µs
 *   a 64-char string: msgpackr pack ~0.54 µs, Buffer#write ~0.08 µs
 * so strings take a UTF-8 fast path, Uint8Arrays are copied raw, and everything else goes through
 * msgpackr (Date, Set, RegExp, typed arrays, bigint survive), except values msgpackr would not
 * round-trip (a Map, an Error, a cycle), which take v8.serialize: the structured clone itself. msgpackr decodes only from the
 * transferred, non-shared batch buffers, never from SharedArrayBuffer views (slow in its addon).
 */

/** Stop needs no record: it sets CLOSED_BIT on the ring's tail, which every thread sees at once. */
export const RecordType = { send: 1, subscribe: 2, unsubscribe: 3, flush: 4, detach: 5 } as const;

export const DataTag = { none: 0, string: 1, msgpack: 2, bytes: 3, v8: 4 } as const;

export const OVERFLOW_CODES = ["block", "drop-oldest", "drop-newest"] as const;

/** Int32 header words of a send record, after the frame. */
export const SEND_CLIENT = 2;
export const SEND_ABORT_SLOT = 3;
/** From here on a send record is copied verbatim into subscriber batches. */
export const SEND_BODY_WORD = 4;
export const BODY_SYSTEM = 0;
export const BODY_KIND = 1;
export const BODY_PATH = 2;
export const BODY_DATA = 3;
export const BODY_TAG = 4;
/** Bytes of the copied body header: five Int32 words (three string lengths, data length, tag). */
export const BODY_HEADER_BYTES = 20;
export const SEND_HEADER_BYTES = SEND_BODY_WORD * 4 + BODY_HEADER_BYTES;

/** Control record header words (after the frame): client, token, then per type. */
export const CONTROL_CLIENT = 2;
export const CONTROL_TOKEN = 3;
export const SUBSCRIBE_NUMBER = 4;
export const SUBSCRIBE_BUFFER = 5;
export const SUBSCRIBE_OVERFLOW = 6;
export const SUBSCRIBE_SYSTEM = 7;
export const SUBSCRIBE_KIND = 8;
/** -1 when the subscription has no path filter. */
export const SUBSCRIBE_PATH = 9;
export const SUBSCRIBE_HEADER_BYTES = 40;
export const CONTROL_HEADER_BYTES = 20;

const MAX_DEPTH = 64;

export const packr = new Packr({ structuredClone: true, useRecords: false, moreTypes: true });

/**
 * Walks `data` once: throws InvalidEventError naming "data" for what structured clone refuses
 * (functions, symbols), and returns true when msgpackr would not round-trip it (a Map decodes as
 * a plain object, an Error loses its class, a cycle is refused): those go through v8.serialize.
 */
function needsStructuredClone(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "function":
    case "symbol":
      throw new InvalidEventError(`invalid event: data: a ${typeof value} cannot be cloned`, "data");
    case "object": {
      if (value === null || ArrayBuffer.isView(value) || value instanceof Date || value instanceof RegExp)
        return false;
      if (value instanceof Map || value instanceof Error || depth > MAX_DEPTH) return true;
      let found = false;
      if (Array.isArray(value) || value instanceof Set) {
        for (const item of value) found = needsStructuredClone(item, depth + 1) || found;
      } else {
        for (const key in value)
          found = needsStructuredClone((value as Record<string, unknown>)[key], depth + 1) || found;
      }
      return found;
    }
    default:
      return false;
  }
}

function serialize(data: unknown): Uint8Array {
  try {
    return v8.serialize(data);
  } catch (error) {
    throw new InvalidEventError(`invalid event: data: cannot be cloned: ${(error as Error).message}`, "data");
  }
}

/**
 * UTF-8 byte length: a loop answers for short ASCII strings (the usual system/kind/path) without
 * a native call; longer strings ask Buffer.byteLength (~25 ns, where the loop costs ~1 ns a char).
 */
function utf8Length(value: string): number {
  const length = value.length;
  if (length > 16) return Buffer.byteLength(value);
  for (let i = 0; i < length; i++) if (value.charCodeAt(i) > 0x7f) return Buffer.byteLength(value);
  return length;
}

/** Short ASCII strings are stored byte by byte (~7 ns) rather than through Buffer#write (~60 ns a call). */
function writeString(target: Buffer, value: string, at: number, byteLength: number): void {
  const length = value.length;
  if (byteLength === length && length <= 24)
    for (let i = 0; i < length; i++) target[at + i] = value.charCodeAt(i);
  else utf8Write(target, value, at, byteLength);
}

/**
 * Encodes records. A send is measured first (data encoded, string lengths known), then written
 * straight into its claimed space in the ring: no scratch copy on the hot path. Control records
 * are rare and go through a per-thread scratch buffer.
 */
export class RecordEncoder {
  #scratch = Buffer.allocUnsafeSlow(4096);
  #words = new Int32Array(this.#scratch.buffer, 0, 1024);
  #systemBytes = 0;
  #kindBytes = 0;
  #pathBytes = 0;
  #dataBytes = 0;
  #tag: number = DataTag.none;
  #encoded: Uint8Array | null = null;

  get bytes(): Uint8Array {
    return this.#scratch;
  }

  /**
   * Measures a send and encodes its data; returns the record's length in bytes. Throws
   * InvalidEventError for data that cannot be cloned. `writeSend` must follow with the same event.
   */
  measureSend(system: string, kind: string, path: string, data: unknown): number {
    let tag: number = DataTag.none;
    let encoded: Uint8Array | null = null;
    let dataBytes = 0;
    if (typeof data === "string") {
      tag = DataTag.string;
      dataBytes = utf8Length(data);
    } else if (data instanceof Uint8Array && data.constructor === Uint8Array) {
      tag = DataTag.bytes;
      encoded = data;
      dataBytes = data.byteLength;
    } else if (data !== undefined) {
      if (needsStructuredClone(data, 0)) {
        tag = DataTag.v8;
        encoded = serialize(data);
      } else {
        tag = DataTag.msgpack;
        try {
          encoded = packr.pack(data);
        } catch {
          tag = DataTag.v8;
          encoded = serialize(data);
        }
      }
      dataBytes = encoded.byteLength;
    }
    this.#tag = tag;
    this.#encoded = encoded;
    this.#dataBytes = dataBytes;
    this.#systemBytes = utf8Length(system);
    this.#kindBytes = utf8Length(kind);
    this.#pathBytes = utf8Length(path);
    return SEND_HEADER_BYTES + this.#systemBytes + this.#kindBytes + this.#pathBytes + dataBytes;
  }

  /** Writes the measured send at `offset` of the ring (frame excluded: Ring.publish writes it). */
  writeSend(
    target: Buffer,
    words: Int32Array,
    offset: number,
    system: string,
    kind: string,
    path: string,
    data: unknown,
    client: number,
    abortSlot: number,
  ): void {
    const base = offset >> 2;
    words[base + SEND_CLIENT] = client;
    words[base + SEND_ABORT_SLOT] = abortSlot;
    const body = base + SEND_BODY_WORD;
    words[body + BODY_SYSTEM] = this.#systemBytes;
    words[body + BODY_KIND] = this.#kindBytes;
    words[body + BODY_PATH] = this.#pathBytes;
    words[body + BODY_DATA] = this.#dataBytes;
    words[body + BODY_TAG] = this.#tag;
    let at = offset + SEND_HEADER_BYTES;
    writeString(target, system, at, this.#systemBytes);
    at += this.#systemBytes;
    writeString(target, kind, at, this.#kindBytes);
    at += this.#kindBytes;
    writeString(target, path, at, this.#pathBytes);
    at += this.#pathBytes;
    if (this.#tag === DataTag.string) writeString(target, data as string, at, this.#dataBytes);
    else if (this.#encoded !== null) {
      target.set(this.#encoded, at);
      this.#encoded = null;
    }
  }

  encodeSubscribe(
    client: number,
    token: number,
    number: number,
    bufferSize: number,
    overflow: (typeof OVERFLOW_CODES)[number],
    system: string,
    kind: string,
    path: string | undefined,
  ): number {
    this.#ensure(SUBSCRIBE_HEADER_BYTES + 3 * (system.length + kind.length + (path?.length ?? 0)));
    const scratch = this.#scratch;
    const words = this.#words;
    let at = SUBSCRIBE_HEADER_BYTES;
    words[CONTROL_CLIENT] = client;
    words[CONTROL_TOKEN] = token;
    words[SUBSCRIBE_NUMBER] = number;
    words[SUBSCRIBE_BUFFER] = bufferSize;
    words[SUBSCRIBE_OVERFLOW] = OVERFLOW_CODES.indexOf(overflow);
    words[SUBSCRIBE_SYSTEM] = scratch.write(system, at);
    at += words[SUBSCRIBE_SYSTEM]!;
    words[SUBSCRIBE_KIND] = scratch.write(kind, at);
    at += words[SUBSCRIBE_KIND]!;
    if (path === undefined) words[SUBSCRIBE_PATH] = -1;
    else {
      words[SUBSCRIBE_PATH] = scratch.write(path, at);
      at += words[SUBSCRIBE_PATH]!;
    }
    return at;
  }

  /** Unsubscribe, flush and detach: client, token and one argument. */
  encodeControl(client: number, token: number, argument: number): number {
    const words = this.#words;
    words[CONTROL_CLIENT] = client;
    words[CONTROL_TOKEN] = token;
    words[SUBSCRIBE_NUMBER] = argument;
    return CONTROL_HEADER_BYTES;
  }

  #ensure(length: number): void {
    if (length <= this.#scratch.byteLength) return;
    let size = this.#scratch.byteLength;
    while (size < length) size *= 2;
    this.#scratch = Buffer.allocUnsafeSlow(size);
    this.#words = new Int32Array(this.#scratch.buffer, 0, size >> 2);
  }
}

/** Reads strings out of the ring on the dispatcher side (header only, never data). */
export class RecordReader {
  readonly #text: Buffer;
  readonly #words: Int32Array;
  readonly #names = new NameCache();
  system = "";
  kind = "";

  constructor(bytes: Uint8Array, words: Int32Array) {
    this.#text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#words = words;
  }

  word(offset: number, index: number): number {
    return this.#words[(offset >> 2) + index]!;
  }

  /** Sets `system` and `kind` from the send record at `offset`. */
  readNames(offset: number): void {
    const body = (offset >> 2) + SEND_BODY_WORD;
    const names = this.#names;
    names.read(
      this.#text,
      offset + SEND_HEADER_BYTES,
      this.#words[body + BODY_SYSTEM]!,
      this.#words[body + BODY_KIND]!,
    );
    this.system = names.system;
    this.kind = names.kind;
  }

  /** A send's path. */
  path(offset: number): string {
    const body = (offset >> 2) + SEND_BODY_WORD;
    const start =
      offset + SEND_HEADER_BYTES + this.#words[body + BODY_SYSTEM]! + this.#words[body + BODY_KIND]!;
    return utf8Slice(this.#text, start, start + this.#words[body + BODY_PATH]!);
  }

  /** The subscribe record's system, kind and path (undefined when it has none). */
  subscribeStrings(offset: number): [string, string, string | undefined] {
    const words = this.#words;
    const base = offset >> 2;
    let start = offset + SUBSCRIBE_HEADER_BYTES;
    const system = this.#text.toString("utf8", start, start + words[base + SUBSCRIBE_SYSTEM]!);
    start += words[base + SUBSCRIBE_SYSTEM]!;
    const kind = this.#text.toString("utf8", start, start + words[base + SUBSCRIBE_KIND]!);
    start += words[base + SUBSCRIBE_KIND]!;
    const pathLength = words[base + SUBSCRIBE_PATH]!;
    return [
      system,
      kind,
      pathLength < 0 ? undefined : this.#text.toString("utf8", start, start + pathLength),
    ];
  }
}

export { FRAME_BYTES };
