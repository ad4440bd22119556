import v8 from "node:v8";
import { InvalidEventError } from "@threadbus/core";
import { Packr } from "msgpackr";
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
const BODY_SYSTEM = 0;
const BODY_KIND = 1;
const BODY_PATH = 2;
const BODY_DATA = 3;
const BODY_TAG = 4;
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

const packr = new Packr({ structuredClone: true, useRecords: false, moreTypes: true });

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
 * Builds records in a per-thread scratch buffer (not shared), so the ring is claimed only once
 * the exact length is known; the caller then copies the record in with one `set`.
 */
export class RecordEncoder {
  #scratch = Buffer.allocUnsafeSlow(4096);
  #words = new Int32Array(this.#scratch.buffer, 0, 1024);

  get bytes(): Uint8Array {
    return this.#scratch;
  }

  /** Encodes a send; returns the record's length in bytes. Throws InvalidEventError for bad data. */
  encodeSend(
    system: string,
    kind: string,
    path: string,
    data: unknown,
    client: number,
    abortSlot: number,
  ): number {
    let tag: number = DataTag.none;
    let encoded: Uint8Array | null = null;
    let dataBytes = 0;
    if (typeof data === "string") {
      tag = DataTag.string;
      dataBytes = Buffer.byteLength(data);
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
    // Worst case of UTF-8 is 3 bytes per UTF-16 unit; grow before writing, never mid-write.
    const maxLength = SEND_HEADER_BYTES + 3 * (system.length + kind.length + path.length) + dataBytes;
    this.#ensure(maxLength);
    const scratch = this.#scratch;
    let at = SEND_HEADER_BYTES;
    const systemBytes = scratch.write(system, at);
    at += systemBytes;
    const kindBytes = scratch.write(kind, at);
    at += kindBytes;
    const pathBytes = scratch.write(path, at);
    at += pathBytes;
    if (tag === DataTag.string) at += scratch.write(data as string, at);
    else if (encoded !== null) {
      scratch.set(encoded, at);
      at += dataBytes;
    }
    const words = this.#words;
    words[SEND_CLIENT] = client;
    words[SEND_ABORT_SLOT] = abortSlot;
    const body = SEND_BODY_WORD;
    words[body + BODY_SYSTEM] = systemBytes;
    words[body + BODY_KIND] = kindBytes;
    words[body + BODY_PATH] = pathBytes;
    words[body + BODY_DATA] = dataBytes;
    words[body + BODY_TAG] = tag;
    return at;
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

  constructor(bytes: Uint8Array, words: Int32Array) {
    this.#text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#words = words;
  }

  word(offset: number, index: number): number {
    return this.#words[(offset >> 2) + index]!;
  }

  /** A send's system, kind, or path (0, 1, 2). */
  sendString(offset: number, which: 0 | 1 | 2): string {
    const body = (offset >> 2) + SEND_BODY_WORD;
    let start = offset + SEND_HEADER_BYTES;
    for (let i = 0; i < which; i++) start += this.#words[body + i]!;
    return this.#text.toString("utf8", start, start + this.#words[body + which]!);
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

/**
 * One subscriber's pending deliveries: send-record bodies copied out of the ring back to back,
 * each prefixed by its byte length. `take()` hands the filled bytes over as one ArrayBuffer to
 * transfer, so a batch of many events costs one postMessage (~1.1 M events/s batched 64 per post
 * vs ~0.2 M/s one message per event, see design.md).
 */
export class BatchWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;
  count = 0;

  constructor(initial = 4096) {
    this.#bytes = new Uint8Array(initial);
    this.#view = new DataView(this.#bytes.buffer);
  }

  get byteLength(): number {
    return this.#length;
  }

  /** Copies the body of the send record at `offset` (of `length` bytes) from the ring. */
  append(ring: Uint8Array, offset: number, length: number): void {
    const body = length - SEND_BODY_WORD * 4;
    const needed = this.#length + 4 + body;
    if (needed > this.#bytes.byteLength) this.#grow(needed);
    this.#view.setUint32(this.#length, body, true);
    const from = offset + SEND_BODY_WORD * 4;
    this.#bytes.set(ring.subarray(from, from + body), this.#length + 4);
    this.#length = needed;
    this.count++;
  }

  /** Hands over the filled bytes; the writer starts a fresh buffer sized for the next batch. */
  take(): ArrayBuffer {
    const full = this.#bytes.buffer as ArrayBuffer;
    const taken = this.#length === full.byteLength ? full : full.slice(0, this.#length);
    const next = Math.max(4096, Math.min(1 << 20, this.#length));
    this.#bytes = new Uint8Array(next);
    this.#view = new DataView(this.#bytes.buffer);
    this.#length = 0;
    this.count = 0;
    return taken;
  }

  #grow(needed: number): void {
    let size = this.#bytes.byteLength * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }
}

/** Decodes a delivered batch into events, calling `onEvent` for each in order. */
export function readBatch(
  buffer: ArrayBuffer,
  onEvent: (system: string, kind: string, path: string, data: unknown, hasData: boolean) => void,
): void {
  const text = Buffer.from(buffer);
  const view = new DataView(buffer);
  let at = 0;
  while (at < buffer.byteLength) {
    const size = view.getUint32(at, true);
    const body = at + 4;
    const systemBytes = view.getInt32(body, true);
    const kindBytes = view.getInt32(body + 4, true);
    const pathBytes = view.getInt32(body + 8, true);
    const dataBytes = view.getInt32(body + 12, true);
    const tag = view.getInt32(body + 16, true);
    let start = body + BODY_HEADER_BYTES;
    const system = text.toString("utf8", start, start + systemBytes);
    start += systemBytes;
    const kind = text.toString("utf8", start, start + kindBytes);
    start += kindBytes;
    const path = text.toString("utf8", start, start + pathBytes);
    start += pathBytes;
    switch (tag) {
      case DataTag.string:
        onEvent(system, kind, path, text.toString("utf8", start, start + dataBytes), true);
        break;
      case DataTag.bytes:
        onEvent(system, kind, path, new Uint8Array(buffer.slice(start, start + dataBytes)), true);
        break;
      case DataTag.msgpack:
        onEvent(system, kind, path, packr.unpack(text.subarray(start, start + dataBytes)), true);
        break;
      case DataTag.v8:
        onEvent(system, kind, path, v8.deserialize(text.subarray(start, start + dataBytes)), true);
        break;
      default:
        onEvent(system, kind, path, undefined, false);
    }
    at = body + size;
  }
}

export { FRAME_BYTES };
