import type { BusEvent } from "@threadbus/core";
import { BODY_DATA_BYTES, BODY_PATH_BYTES, BODY_TAG, type BodyNames, pathStart } from "../codec.js";
import { type CompiledDecoder, DataTag, decodeData } from "../data_codec.js";
import { type DataReads, DeliveredEvent } from "../delivered_event.js";
import { utf8Slice } from "../fast_buffer.js";

/** Events a subscription builds lazily before it samples whether its consumer reads `data`. */
const SAMPLE_EVENTS = 64;
/** Events decoded eagerly, once the consumer was seen reading data, before it is sampled again. */
const EAGER_EVENTS = 4096;

/**
 * Lazy or eager `data`, per subscription: events are built with `data` decoded on first access
 * (DeliveredEvent) until a sample shows the consumer reads most of them; then it gets plain,
 * eagerly decoded objects for a while (defining the accessor costs ~0.1 µs an event).
 */
export class DataSampler {
  readonly reads: DataReads;
  #eagerLeft = 0;
  #lazyMade = 0;

  constructor(codecs: CompiledDecoder | null) {
    this.reads = { reads: 0, codecs };
  }

  get eager(): boolean {
    return this.#eagerLeft > 0;
  }

  /** Counts a built event; after SAMPLE_EVENTS lazy ones, a consumer that read most of their data gets eager ones. */
  built(eager: boolean): void {
    if (eager) {
      this.#eagerLeft--;
      return;
    }
    this.#lazyMade++;
    if (this.#lazyMade < SAMPLE_EVENTS) return;
    // Reads lag: the consumer may not have touched the newest events yet. Half is the bar.
    if (this.reads.reads * 2 >= this.#lazyMade) this.#eagerLeft = EAGER_EVENTS;
    this.#lazyMade = 0;
    this.reads.reads = 0;
  }
}

/**
 * Builds the event whose send body starts at word `body` of `words` (bytes in `text`): names
 * from the name table, the path decoded, `data` lazily or eagerly as `sampler` says.
 */
export function buildEvent<D>(
  names: BodyNames,
  text: Buffer,
  words: Int32Array,
  body: number,
  sampler: DataSampler,
): BusEvent<D> {
  names.read(text, words, body);
  const start = body * 4 + pathStart(words, body);
  const pathEnd = start + words[body + BODY_PATH_BYTES]!;
  const path = utf8Slice(text, start, pathEnd);
  const tag = words[body + BODY_TAG]!;
  if (tag === DataTag.none) return { system: names.system, kind: names.kind, path };
  const dataEnd = pathEnd + words[body + BODY_DATA_BYTES]!;
  const eager = sampler.eager;
  if (eager || tag === DataTag.string || tag === DataTag.bytes) {
    if (eager) sampler.built(true);
    return {
      system: names.system,
      kind: names.kind,
      path,
      data: decodeData(tag, text, pathEnd, dataEnd, sampler.reads.codecs) as D,
    };
  }
  sampler.built(false);
  return new DeliveredEvent<D>(names.system, names.kind, path, text, pathEnd, dataEnd, tag, sampler.reads);
}
