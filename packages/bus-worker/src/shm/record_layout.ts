/**
 * The layout of one record of the shared ring (ring.ts), after Agrona's RecordDescriptor: the
 * frame every record starts with, the header words of each record type, the body a send carries
 * and the tag that names how its data is encoded. Offsets are Int32 word indices from the
 * record's first word unless the name says bytes. Every record starts on an 8-byte boundary.
 *
 * Frame (every record, RECORD_FRAME_BYTES):
 *
 *   word  bytes   field            written by              read by
 *   0     0-3     length           producer (claim, publish) consumer (dispatcher)
 *   1     4-7     type             producer                consumer
 *
 *   - length: 0 free (zeroed by the consumer as it frees space); -length while claimed and not
 *     yet written (stored by the producer right after its tail CAS); +length once published (one
 *     CAS from -length: a late publish loses to a consumer that skipped the claim as torn).
 *     length counts the frame and the body, not the alignment padding after them.
 *   - type: a RecordType, or PADDING_TYPE (skipped by the consumer); while claimed, the claiming
 *     client's mark -(client + 1), so a torn claim names its owner.
 *
 * Send record (RecordType.send), written by a publishing thread (client.ts / codec.ts):
 *
 *   word  bytes   field            read by
 *   2     8-11    client           dispatcher (counts, torn records)
 *   3     12-15   abort slot       dispatcher (-1: no signal; see abort_slots.ts)
 *   4..   16..    body             dispatcher routes on it and copies it verbatim into each
 *                                  matching subscriber's delivery ring; the subscriber decodes it
 *
 * Send body (word indices from the body's first word; SEND_BODY_WORD in the record):
 *
 *   word  bytes   field
 *   0     0-3     system id        name table id, or -1: the system's bytes are inline
 *   1     4-7     kind id          the same for the kind
 *   2     8-11    system bytes     UTF-8 bytes of the inline system (0 when interned)
 *   3     12-15   kind bytes       UTF-8 bytes of the inline kind (0 when interned)
 *   4     16-19   path bytes       UTF-8 bytes of the path
 *   5     20-23   data bytes       bytes of the encoded data
 *   6     24-27   data tag         a DataTag, or COMPILED_TAG + catalogue entry id
 *   -     28..    inline system, inline kind, path, data: back to back, unaligned
 *
 * Control records (subscribe, unsubscribe, flush, detach), written by any thread, read by the
 * dispatcher: word 2 client, word 3 token (the reply's), then per type: subscribe has its
 * number, buffer size, overflow code and the byte lengths of system, kind and path (-1: no path
 * filter) in words 4-9, then those strings; the others carry one argument in word 4.
 */

/** Frame words: the publish flag and the record type. */
export const FRAME_LENGTH_WORD = 0;
export const FRAME_TYPE_WORD = 1;
/** Every record starts with two Int32 words: its length in bytes (frame included) and its type. */
export const FRAME_BYTES = 8;
/** Records start on this boundary, so their frame words are aligned Int32s. */
export const RECORD_ALIGNMENT = 8;

/** The record type a wrap leaves at the end of the ring; the consumer skips it. */
export const PADDING_TYPE = 0x7fff_ffff;

/** Stop needs no record: it sets CLOSED_BIT on the ring's tail, which every thread sees at once. */
export const RecordType = { send: 1, subscribe: 2, unsubscribe: 3, flush: 4, detach: 5 } as const;

/** Int32 header words of a send record, after the frame. */
export const SEND_CLIENT = 2;
export const SEND_ABORT_SLOT = 3;
/** From here on a send record is copied verbatim into delivery rings. */
export const SEND_BODY_WORD = 4;

/** Body words: name ids (-1: inline), byte lengths of the inline names, the path and the data, the data's tag. */
export const BODY_SYSTEM_ID = 0;
export const BODY_KIND_ID = 1;
export const BODY_SYSTEM_BYTES = 2;
export const BODY_KIND_BYTES = 3;
export const BODY_PATH_BYTES = 4;
export const BODY_DATA_BYTES = 5;
export const BODY_TAG = 6;
export const BODY_HEADER_BYTES = 28;
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

/** The overflow policy of a subscribe record, by its index here (SUBSCRIBE_OVERFLOW). */
export const OVERFLOW_CODES = ["block", "drop-oldest", "drop-newest"] as const;

/**
 * The data tag (BODY_TAG) of a send: how its data bytes are encoded (data_codec.ts). A tag at or
 * above COMPILED_TAG names a compiled codec (compiled_codec.ts): the catalogue entry whose id is
 * `tag - COMPILED_TAG`, so compiled and generic records share one ring and one order.
 */
export const DataTag = { none: 0, string: 1, msgpack: 2, bytes: 3, v8: 4 } as const;
export const COMPILED_TAG = 16;

/** A record's length rounded up to RECORD_ALIGNMENT: the ring space it takes. */
export function alignedRecordBytes(length: number): number {
  return (length + RECORD_ALIGNMENT - 1) & ~(RECORD_ALIGNMENT - 1);
}
