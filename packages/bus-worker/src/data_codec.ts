import v8 from "node:v8";
import { InvalidEventError } from "@threadbus/core";
import { Packr } from "msgpackr";
import { utf8Slice } from "./fast_buffer.js";
import { COMPILED_TAG, DataTag } from "./shm/record_layout.js";

/**
 * How an event's `data` travels between threads: as bytes the dispatcher never looks at.
 *
 * Chosen by measurement (Node 20, 2 vCPU; a 5-field object of ~50 msgpack bytes):
 *   msgpackr (moreTypes)         pack ~0.30 µs, unpack ~0.26 µs
 *   msgpackr (structuredClone)   pack ~0.35 µs; records without shared structures ~0.58 / 0.80 µs
 *   JSON.stringify + encodeInto  ~0.54 µs, decode + JSON.parse ~0.73 µs
 *   v8.serialize                 ~4.6 µs,  v8.deserialize ~2.4 µs
 *   a 64-char string: msgpackr pack ~0.54 µs, a UTF-8 write ~0.08 µs
 * so strings take a UTF-8 fast path, plain Uint8Arrays are copied raw, and everything else goes
 * through msgpackr (Date, Set, RegExp, typed arrays and bigint survive), except values msgpackr
 * would change and structured clone would not: a Map (decodes as an object), an Error (loses its
 * class), a cycle, -0 (becomes 0), an array with holes (holes become undefined), a boxed primitive
 * and an own `__proto__` key (renamed). Those take v8.serialize, the structured clone itself, so
 * a WorkerBus delivers what postMessage would. A SharedArrayBuffer (or a view of one) is refused:
 * structured clone would share it between threads, a bus copies, and neither is what a sender of
 * an event means. The tags (DataTag, and COMPILED_TAG + entry id for a compiled codec) are part
 * of the record's layout: shm/record_layout.ts.
 */

/** Decodes what a compiled codec wrote; the catalogue's codecs on the reading thread. */
export interface CompiledDecoder {
  decode(tag: number, bytes: Buffer, start: number): unknown;
}

const MAX_DEPTH = 64;

export const packr = new Packr({ useRecords: false, moreTypes: true });

/** A refusal that names the data, for values structured clone refuses or a bus must not share. */
function refuse(reason: string, cause?: unknown): InvalidEventError {
  const error = new InvalidEventError(`invalid event: data: ${reason}`, "data");
  if (cause !== undefined) Object.defineProperty(error, "cause", { value: cause, configurable: true });
  return error;
}

/**
 * Walks `data` once: throws for what the bus refuses, and returns true when msgpackr would not
 * round-trip the value exactly (see above), so it must go through v8.serialize.
 */
function needsStructuredClone(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "number":
      return value === 0 && 1 / value < 0;
    case "function":
    case "symbol":
      throw refuse(`a ${typeof value} cannot be cloned`);
    case "object": {
      if (value === null) return false;
      if (ArrayBuffer.isView(value)) {
        if (value.buffer instanceof SharedArrayBuffer)
          throw refuse("a view of a SharedArrayBuffer is refused");
        return false;
      }
      if (value instanceof SharedArrayBuffer) throw refuse("a SharedArrayBuffer is refused");
      if (value instanceof Date || value instanceof RegExp) return false;
      if (depth > MAX_DEPTH || value instanceof Map || value instanceof Error || value instanceof ArrayBuffer)
        return true;
      if (
        value instanceof String ||
        value instanceof Number ||
        value instanceof Boolean ||
        value instanceof BigInt ||
        value instanceof Symbol
      )
        return true;
      let found = false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined && !(i in value))
            found = true; // a hole
          else found = needsStructuredClone(item, depth + 1) || found;
        }
      } else if (value instanceof Set) {
        for (const item of value) found = needsStructuredClone(item, depth + 1) || found;
      } else {
        for (const key in value) {
          if (key === "__proto__") found = true;
          else found = needsStructuredClone((value as Record<string, unknown>)[key], depth + 1) || found;
        }
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
    throw refuse(`cannot be cloned: ${(error as Error).message}`, error);
  }
}

/** The tag of what encodeObjectData() returned last (an out value: no object per send). */
export let encodedTag: number = DataTag.none;

/**
 * Encodes data that is neither undefined, a string nor a plain Uint8Array: returns the bytes and
 * sets `encodedTag`. A getter that throws while the data is read surfaces as InvalidEventError
 * (field "data") with the getter's error as `cause`.
 */
export function encodeObjectData(data: unknown): Uint8Array {
  let structured: boolean;
  try {
    structured = needsStructuredClone(data, 0);
  } catch (error) {
    if (error instanceof InvalidEventError) throw error;
    throw refuse(`reading it threw: ${(error as Error)?.message ?? String(error)}`, error);
  }
  if (!structured) {
    try {
      const packed = packr.pack(data);
      encodedTag = DataTag.msgpack;
      return packed;
    } catch {
      // msgpackr refused it: structured clone may not.
    }
  }
  const serialized = serialize(data);
  encodedTag = DataTag.v8;
  return serialized;
}

/** The tag of what encodeGenericData() returned last. */
export let genericTag: number = DataTag.none;

const NO_BYTES = new Uint8Array(0);

/**
 * Any value as the generic codec carries it (a generic part of a compiled codec): the bytes, with
 * `genericTag` set. A string with lone surrogates goes through v8.serialize: UTF-8 cannot carry it.
 */
export function encodeGenericData(data: unknown): Uint8Array {
  if (data === undefined) {
    genericTag = DataTag.none;
    return NO_BYTES;
  }
  if (typeof data === "string" && (data as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    genericTag = DataTag.string;
    return Buffer.from(data);
  }
  const bytes = typeof data === "string" ? serialize(data) : encodeObjectData(data);
  genericTag = typeof data === "string" ? DataTag.v8 : encodedTag;
  return bytes;
}

/** Decodes data bytes of a delivered event, `bytes[start, end)`. */
export function decodeData(
  tag: number,
  bytes: Buffer,
  start: number,
  end: number,
  codecs: CompiledDecoder | null,
): unknown {
  if (tag >= COMPILED_TAG) {
    if (codecs === null)
      throw new Error("threadbus: a catalogued event reached a thread without the catalogue");
    return codecs.decode(tag, bytes, start);
  }
  switch (tag) {
    case DataTag.string:
      return utf8Slice(bytes, start, end);
    case DataTag.bytes:
      return new Uint8Array(bytes.subarray(start, end));
    case DataTag.msgpack:
      return packr.unpack(bytes, { start, end });
    case DataTag.v8:
      return v8.deserialize(bytes.subarray(start, end));
    default:
      return undefined;
  }
}
