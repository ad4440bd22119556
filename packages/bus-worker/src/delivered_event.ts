import { inspect } from "node:util";
import type { BusEvent } from "@threadbus/core";
import { type CompiledDecoder, decodeData } from "./data_codec.js";

/**
 * Counts, per subscription, how often a lazily decoded `data` was actually read; carries the
 * thread's compiled codecs too (one shared object, so an event holds no extra field for them).
 */
export interface DataReads {
  reads: number;
  readonly codecs: CompiledDecoder | null;
}

/** One descriptor for every event: V8 then shares one hidden class between them (~0.1 µs to define). */
const dataAccessor: PropertyDescriptor = { enumerable: true, configurable: true };

/**
 * A delivered event whose `data` is decoded on first access, straight from the bytes its batch
 * was copied into: a consumer that routes on system, kind and path never pays for msgpackr
 * (~0.3-1.2 µs an event). `data` is an own, enumerable accessor, so the event still behaves as a
 * plain object: spread, JSON.stringify, structuredClone, Object.keys and re-sending it all see
 * system, kind, path and data. Defining that accessor costs ~0.1 µs, which is why a subscription
 * whose consumer reads every event's data gets plain, eagerly decoded objects instead (see
 * DeliveryReader); the bytes' owner is private state that none of those operations can see.
 */
export class DeliveredEvent<D = unknown> implements BusEvent<D> {
  system: string;
  kind: string;
  path: string;
  declare data?: D;
  #bytes: Buffer | null;
  #start: number;
  #end: number;
  #tag: number;
  #value: unknown = undefined;
  readonly #reads: DataReads;

  constructor(
    system: string,
    kind: string,
    path: string,
    bytes: Buffer,
    start: number,
    end: number,
    tag: number,
    reads: DataReads,
  ) {
    this.system = system;
    this.kind = kind;
    this.path = path;
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
    this.#tag = tag;
    this.#reads = reads;
    Object.defineProperty(this, "data", dataAccessor);
  }

  /**
   * console.log and util.inspect show the event as the plain object it stands for (`data`
   * decoded), not as `data: [Getter/Setter]`.
   */
  [inspect.custom](): BusEvent<D> {
    const data = this.data;
    const plain: BusEvent<D> = { system: this.system, kind: this.kind, path: this.path };
    if (data !== undefined) plain.data = data;
    return plain;
  }

  static {
    // Defined in the class body so the accessor reaches the private fields, which nothing else can.
    dataAccessor.get = function (this: DeliveredEvent): unknown {
      const bytes = this.#bytes;
      if (bytes !== null) {
        this.#reads.reads++;
        this.#value = decodeData(this.#tag, bytes, this.#start, this.#end, this.#reads.codecs);
        this.#bytes = null;
      }
      return this.#value;
    };
    // An assigned value replaces the delivered one, as on a plain object.
    dataAccessor.set = function (this: DeliveredEvent, value: unknown): void {
      this.#bytes = null;
      this.#value = value;
    };
  }
}
