import type { z } from "zod";
import type { BusEvent } from "./event.js";
import type { Subscription } from "./types.js";

/**
 * Type-level twins of the runtime matcher (pattern.ts): a literal pattern narrows a subscription
 * to the catalogued events it matches, by the same rules (`*` one segment, `**` zero or more,
 * `(a|b)` one of, a literal itself only, "" nothing). A pattern typed `string` matches everything.
 */
type Split<S extends string> = S extends "" ? [] : S extends `${infer H}.${infer T}` ? [H, ...Split<T>] : [S];

type Options<O extends string> = O extends `${infer H}|${infer T}` ? H | Options<T> : O;

type SegmentMatches<P extends string, V extends string> = P extends "*"
  ? true
  : P extends `(${infer O})`
    ? V extends Options<O>
      ? true
      : false
    : [P] extends [V]
      ? true
      : false;

type SegmentsMatch<P extends string[], V extends string[]> = P extends [
  infer H extends string,
  ...infer R extends string[],
]
  ? H extends "**"
    ? SegmentsMatch<R, V> extends true
      ? true
      : V extends [string, ...infer VR extends string[]]
        ? SegmentsMatch<P, VR>
        : false
    : V extends [infer VH extends string, ...infer VR extends string[]]
      ? SegmentMatches<H, VH> extends true
        ? SegmentsMatch<R, VR>
        : false
      : false
  : V extends []
    ? true
    : false;

/** `true` when pattern `P` matches value `V` (for a union `P`, when one of its members does). */
export type PatternMatches<P extends string, V extends string> = string extends P
  ? true
  : true extends (P extends "" ? false : SegmentsMatch<Split<P>, Split<V>>)
    ? true
    : false;

/** A kind pattern: omitted or "" is every kind. */
type KindMatches<K extends string, V extends string> = string extends K
  ? true
  : true extends (K extends "" ? true : PatternMatches<K, V>)
    ? true
    : false;

/** What one catalogued kind may be: a schema of its data, or schemas of its data and path. */
export type KindSpec = z.ZodType | { readonly data?: z.ZodType; readonly path?: z.ZodType };
/** system -> kind -> schema, as given to defineEvents(). */
export type CatalogueSpec = { readonly [system: string]: { readonly [kind: string]: KindSpec } };

type DataSchema<K> = K extends z.ZodType ? K : K extends { data: infer D extends z.ZodType } ? D : undefined;
type PathSchema<K> = K extends { path: infer P extends z.ZodType } ? P : undefined;

type Io<T extends z.ZodType, Dir extends "in" | "out"> = Dir extends "in" ? z.input<T> : z.output<T>;

type DataPart<K, Dir extends "in" | "out"> =
  DataSchema<K> extends infer D extends z.ZodType
    ? undefined extends Io<D, Dir>
      ? { data?: Io<D, Dir> }
      : { data: Io<D, Dir> }
    : { data?: undefined };

type PathPart<K, Dir extends "in" | "out"> =
  PathSchema<K> extends infer P extends z.ZodType ? { path: Io<P, Dir> & string } : { path: string };

type EventOf<S extends string, K extends string, Spec, Dir extends "in" | "out"> = {
  system: S;
  kind: K;
} & PathPart<Spec, Dir> &
  DataPart<Spec, Dir>;

type Flatten<T> = { [K in keyof T]: T[K] };

/** The union of every event a catalogue describes: what subscribers receive (zod's output types). */
export type EventsOf<Spec extends CatalogueSpec, Dir extends "in" | "out" = "out"> = {
  [S in keyof Spec & string]: {
    [K in keyof Spec[S] & string]: Flatten<EventOf<S, K, Spec[S][K], Dir>>;
  }[keyof Spec[S] & string];
}[keyof Spec & string];

/** The catalogued events that subscribe(system, kind) receives. */
export type MatchingEvents<
  E extends BusEvent<unknown>,
  S extends string,
  K extends string,
> = E extends unknown
  ? true extends PatternMatches<S, E["system"]>
    ? true extends KindMatches<K, E["kind"]>
      ? E
      : never
    : never
  : never;

/**
 * A type-only key (no value exists at run time): a bus declares `[catalogueType]?: C`, which lets
 * helpers infer the catalogue of the bus they are given.
 */
export declare const catalogueType: unique symbol;

/** The catalogue a bus is typed by, or `Untyped` (events carry `unknown` data, as before). */
export interface Untyped {
  readonly untyped: true;
}

/** What a bus typed by catalogue C is carrying, as a type: the spec, or Untyped. */
export interface TypedCatalogue<Spec extends CatalogueSpec = CatalogueSpec> {
  readonly spec: Spec;
}

export type CatalogueLike = TypedCatalogue | Untyped;

/** The events a bus typed by C accepts in send(). */
export type SendEvent<C extends CatalogueLike, D = unknown> =
  C extends TypedCatalogue<infer Spec> ? EventsOf<Spec, "in"> : BusEvent<D>;

/** Every event a bus typed by C delivers. */
export type BusEvents<C extends CatalogueLike, D = unknown> =
  C extends TypedCatalogue<infer Spec> ? EventsOf<Spec, "out"> : BusEvent<D>;

/** The events subscribe(system, kind) yields on a bus typed by C. */
export type SubscribedEvent<C extends CatalogueLike, S extends string, K extends string, D = unknown> =
  C extends TypedCatalogue<infer Spec> ? MatchingEvents<EventsOf<Spec, "out">, S, K> : BusEvent<D>;

/** The subscription subscribe(system, kind) resolves with on a bus typed by C. */
export type SubscriptionFor<
  C extends CatalogueLike,
  S extends string,
  K extends string,
  D = unknown,
> = C extends TypedCatalogue ? Subscription<unknown, SubscribedEvent<C, S, K, D>> : Subscription<D>;
