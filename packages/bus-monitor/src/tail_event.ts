import type { CatalogueLike, SubscribedEvent } from "@threadbus/core";

/**
 * A value after the tail's JSON: bigints become "123n" strings, dates their ISO text, and
 * properties holding undefined disappear (JSON.stringify's rules; NaN and ±Infinity become null,
 * which no type can say). Functions and symbols do not occur in catalogued data.
 */
export type Jsonified<T> = T extends bigint
  ? string
  : T extends Date
    ? string
    : T extends string | number | boolean | null
      ? T
      : T extends readonly (infer E)[]
        ? Jsonified<E>[]
        : T extends object
          ? { [K in keyof T]: Jsonified<T[K]> }
          : never;

/**
 * One `bus` event of the tail's stream (`/tail?system=&kind=&path=`), as a TypeScript client reads
 * it (`JSON.parse(message.data)`): on a bus typed by catalogue C, the union of the catalogued
 * events that system pattern S and kind pattern K match, by the same type-level matcher as
 * subscribe(). `data` is the payload after JSON (see Jsonified), or a string when the payload's
 * JSON was cut at 2,048 characters; it is absent with `showData: false` (then `dataHidden` is
 * true) and for an event without data.
 */
export type TailEvent<C extends CatalogueLike, S extends string = string, K extends string = ""> =
  SubscribedEvent<C, S, K> extends infer E
    ? E extends { system: string; kind: string; path: string; data?: unknown }
      ? Flatten<
          {
            /** The tail's own count of events shown, from 1. */
            seq: number;
            /** When the tail wrote it, in ms since the epoch. */
            t: number;
            system: E["system"];
            kind: E["kind"];
            path: E["path"];
          } & TailData<E["data"]>
        >
      : never
    : never;

/** An event without data has no `data` in the tail; one with data has it, hidden or cut. */
type TailData<D> = [D] extends [undefined]
  ? { data?: never; dataHidden?: never }
  : { data?: Jsonified<Exclude<D, undefined>> | string; dataHidden?: true };

type Flatten<T> = { [K in keyof T]: T[K] };
