import { InvalidEventError } from "@threadbus/core";
import type { CompiledCodec } from "./compiled_codec.js";
import { encodedTag, encodeObjectData } from "./data_codec.js";
import { latin1Write, SCAN_LIMIT, utf8Length, utf8Slice, utf8Write } from "./fast_buffer.js";
import { NameCache } from "./name_cache.js";
import type { NameTable } from "./names.js";
import { RecordTooLargeError } from "./ring.js";
import {
  BODY_DATA_BYTES,
  BODY_HEADER_BYTES,
  BODY_KIND_BYTES,
  BODY_KIND_ID,
  BODY_PATH_BYTES,
  BODY_SYSTEM_BYTES,
  BODY_SYSTEM_ID,
  BODY_TAG,
  CONTROL_CLIENT,
  CONTROL_HEADER_BYTES,
  CONTROL_TOKEN,
  DataTag,
  OVERFLOW_CODES,
  SEND_ABORT_SLOT,
  SEND_BODY_WORD,
  SEND_CLIENT,
  SEND_HEADER_BYTES,
  SUBSCRIBE_BUFFER,
  SUBSCRIBE_HEADER_BYTES,
  SUBSCRIBE_KIND,
  SUBSCRIBE_NUMBER,
  SUBSCRIBE_OVERFLOW,
  SUBSCRIBE_PATH,
  SUBSCRIBE_SYSTEM,
} from "./shm/record_layout.js";

/**
 * Records in the ring: the encoder of send and control records and the readers of their bodies.
 * Their layout (frame, header words, body) is in shm/record_layout.ts.
 *
 * The dispatcher routes on a send body's name ids (or inline names) and copies the body
 * untouched into each matching subscriber's delivery ring; subscribers decode it there.
 */

/**
 * Writes a string of known UTF-8 length into the ring. Measured into a SharedArrayBuffer (Node
 * 20, 2 vCPU): a byte loop ~4 ns a character, latin1Write ~60-90 ns and utf8Write ~70-120 ns a
 * call up to 1,000 characters. So short ASCII goes byte by byte, longer ASCII through latin1Write
 * (the same bytes for ASCII), the rest UTF-8.
 */
function writeString(target: Buffer, value: string, at: number, byteLength: number): void {
  const length = value.length;
  if (byteLength !== length) utf8Write(target, value, at, byteLength);
  else if (length <= SCAN_LIMIT) for (let i = 0; i < length; i++) target[at + i] = value.charCodeAt(i);
  else latin1Write(target, value, at, length);
}

/**
 * Encodes records. A send is measured first (names interned, data encoded, lengths known), then
 * written straight into its claimed space in the ring: no scratch copy on the hot path. Control
 * records are rare and go through a per-thread scratch buffer.
 */
export class RecordEncoder {
  readonly #names: NameTable;
  #scratch = Buffer.allocUnsafeSlow(4096);
  #words = new Int32Array(this.#scratch.buffer, 0, 1024);
  #systemId = -1;
  #kindId = -1;
  #systemBytes = 0;
  #kindBytes = 0;
  #pathBytes = 0;
  #dataBytes = 0;
  #tag: number = DataTag.none;
  #encoded: Uint8Array | null = null;
  #codec: CompiledCodec | null = null;
  /**
   * The last names interned and their ids: a stream repeats its names, and comparing the same
   * string object is one pointer check where the table's Map costs ~10-20 ns a look-up. An id
   * never changes once given (the table is append-only), nor does -1 (too long, or the table full).
   */
  #lastSystem = "";
  #lastSystemId = -1;
  #lastKind = "";
  #lastKindId = -1;

  constructor(names: NameTable) {
    this.#names = names;
  }

  get bytes(): Uint8Array {
    return this.#scratch;
  }

  /**
   * Measures a send and encodes its data; returns the record's length in bytes. Throws
   * InvalidEventError for data the bus refuses, and RecordTooLargeError (naming the field that
   * makes it too large) past `maxRecordBytes`. `writeSend` must follow with the same event.
   *
   * With a compiled `codec` (a catalogued event), the data is sized by it and named by `tag`;
   * returns -1, encoding nothing, if the data does not fit the codec's shape.
   */
  measureSend(
    system: string,
    kind: string,
    path: string,
    data: unknown,
    maxRecordBytes: number,
    codec: CompiledCodec | null = null,
    codecTag = 0,
  ): number {
    let tag: number = DataTag.none;
    let encoded: Uint8Array | null = null;
    let dataBytes = 0;
    this.#codec = null;
    if (codec !== null) {
      dataBytes = codec.measure(data);
      if (dataBytes < 0) return -1;
      tag = codecTag;
      this.#codec = codec;
    } else if (typeof data === "string") {
      tag = DataTag.string;
      dataBytes = utf8Length(data);
    } else if (data instanceof Uint8Array && data.constructor === Uint8Array) {
      if (data.buffer instanceof SharedArrayBuffer)
        throw new InvalidEventError("invalid event: data: a view of a SharedArrayBuffer is refused", "data");
      tag = DataTag.bytes;
      encoded = data;
      dataBytes = data.byteLength;
    } else if (data !== undefined) {
      encoded = encodeObjectData(data);
      tag = encodedTag;
      dataBytes = encoded.byteLength;
    }
    if (system !== this.#lastSystem) {
      this.#lastSystemId = this.#names.intern(system);
      this.#lastSystem = system;
    }
    if (kind !== this.#lastKind) {
      this.#lastKindId = this.#names.intern(kind);
      this.#lastKind = kind;
    }
    this.#systemId = this.#lastSystemId;
    this.#kindId = this.#lastKindId;
    this.#systemBytes = this.#systemId < 0 ? utf8Length(system) : 0;
    this.#kindBytes = this.#kindId < 0 ? utf8Length(kind) : 0;
    this.#pathBytes = utf8Length(path);
    this.#tag = tag;
    this.#encoded = encoded;
    this.#dataBytes = dataBytes;
    const length = SEND_HEADER_BYTES + this.#systemBytes + this.#kindBytes + this.#pathBytes + dataBytes;
    if (length > maxRecordBytes) {
      this.#encoded = null;
      throw new RecordTooLargeError(length, maxRecordBytes, this.#largestField());
    }
    return length;
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
    words[body + BODY_SYSTEM_ID] = this.#systemId;
    words[body + BODY_KIND_ID] = this.#kindId;
    words[body + BODY_SYSTEM_BYTES] = this.#systemBytes;
    words[body + BODY_KIND_BYTES] = this.#kindBytes;
    words[body + BODY_PATH_BYTES] = this.#pathBytes;
    words[body + BODY_DATA_BYTES] = this.#dataBytes;
    words[body + BODY_TAG] = this.#tag;
    let at = offset + SEND_HEADER_BYTES;
    if (this.#systemId < 0) {
      writeString(target, system, at, this.#systemBytes);
      at += this.#systemBytes;
    }
    if (this.#kindId < 0) {
      writeString(target, kind, at, this.#kindBytes);
      at += this.#kindBytes;
    }
    writeString(target, path, at, this.#pathBytes);
    at += this.#pathBytes;
    if (this.#codec !== null) this.#codec.write(target, at, data);
    else if (this.#tag === DataTag.string) writeString(target, data as string, at, this.#dataBytes);
    else if (this.#encoded !== null) {
      target.set(this.#encoded, at);
      this.#encoded = null;
    }
  }

  #largestField(): string {
    const sizes: [string, number][] = [
      ["system", this.#systemBytes],
      ["kind", this.#kindBytes],
      ["path", this.#pathBytes],
      ["data", this.#dataBytes],
    ];
    sizes.sort((a, b) => b[1] - a[1]);
    return sizes[0]![0];
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

/**
 * Reads the names of a send body, wherever the body lies (the ring on the dispatcher's side, a
 * delivered chunk on a subscriber's): interned ids through the name table, inline names through
 * a byte-keyed cache, so a stream of the same names allocates no strings.
 */
export class BodyNames {
  readonly #table: NameTable;
  readonly #inline = new NameCache();
  system = "";
  kind = "";

  constructor(table: NameTable) {
    this.#table = table;
  }

  /** Sets `system` and `kind` from the body whose first word is `words[body]` (bytes at `body * 4`). */
  read(text: Buffer, words: Int32Array, body: number): void {
    const systemId = words[body + BODY_SYSTEM_ID]!;
    const kindId = words[body + BODY_KIND_ID]!;
    if (systemId >= 0 && kindId >= 0) {
      this.system = this.#table.name(systemId);
      this.kind = this.#table.name(kindId);
      return;
    }
    const systemBytes = words[body + BODY_SYSTEM_BYTES]!;
    const kindBytes = words[body + BODY_KIND_BYTES]!;
    let at = body * 4 + BODY_HEADER_BYTES;
    if (systemId < 0 && kindId < 0) {
      this.#inline.read(text, at, systemBytes, kindBytes);
      this.system = this.#inline.system;
      this.kind = this.#inline.kind;
      return;
    }
    if (systemId < 0) {
      this.system = utf8Slice(text, at, at + systemBytes);
      at += systemBytes;
    } else this.system = this.#table.name(systemId);
    this.kind = kindId < 0 ? utf8Slice(text, at, at + kindBytes) : this.#table.name(kindId);
  }
}

/** Byte offset of a body's path, relative to the body's first byte. */
export function pathStart(words: Int32Array, body: number): number {
  return BODY_HEADER_BYTES + words[body + BODY_SYSTEM_BYTES]! + words[body + BODY_KIND_BYTES]!;
}

/** Reads control records on the dispatcher side. */
export class RecordReader {
  readonly #text: Buffer;
  readonly #words: Int32Array;

  constructor(text: Buffer, words: Int32Array) {
    this.#text = text;
    this.#words = words;
  }

  word(offset: number, index: number): number {
    return this.#words[(offset >> 2) + index]!;
  }

  /** A send's path. */
  path(offset: number): string {
    const body = (offset >> 2) + SEND_BODY_WORD;
    const start = body * 4 + pathStart(this.#words, body);
    return utf8Slice(this.#text, start, start + this.#words[body + BODY_PATH_BYTES]!);
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
