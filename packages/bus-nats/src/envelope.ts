import { Packr } from "msgpackr";
import { z } from "zod";

/**
 * The wire format, version 2: one NATS message carries a batch of consecutive events of one
 * (system, kind) from one exporter, or none (a heartbeat). No headers; the payload is a
 * MessagePack map (plain maps, no msgpackr records, so any MessagePack library reads it):
 *
 *   { v: 2, origin: string, epoch: number, system: string, kind: string, last: number,
 *     events: [path0, data0, path1, data1, ...] }
 *
 * - `origin` is the exporting bridge's id (a bridge never imports its own events); `epoch` is a
 *   random integer in [1, 2^48) drawn by each bridge run, so a restarted bridge (same origin) is
 *   a new stream to importers, never a run of duplicates.
 * - `last` is the sequence number of the last event in `events`; the n events of a message are
 *   numbered last-n+1 .. last, counted per (origin, epoch, subject) from 1. A heartbeat has no
 *   events and `last` is the number of the last event sent on its subject. 0 = not numbered
 *   (past `maxTrackedSubjects` on the exporter).
 * - `events` is flat: a path (string) then its data. An event without data carries msgpackr's
 *   `undefined` (fixext 1, type 0, 0x00), so `data: null` and no data stay apart.
 * - the subject must be `<prefix>.<system>.<kind>` as `subjectFor` writes it.
 *
 * Version 1 is still read (one event per message, no epoch, numbered by `seq`):
 *
 *   { v: 1, origin: string, seq: number, system: string, kind: string, path: string, data?: any }
 *
 * A change to these fields bumps `v`; an importer refuses (and counts) versions it does not know.
 */
export const WIRE_VERSION = 2;

/** Epochs are drawn below 2^48: exact in a double, and 6 bytes in MessagePack. */
export const MAX_EPOCH = 2 ** 48;

const name = z.string().min(1);
const sequence = z.number().int().nonnegative();

/**
 * The header of a version-2 message, validated once per message. The events array is checked
 * by hand (an even length, a string at every even index): zod would walk and copy it.
 */
const headerV2 = z.object({
  v: z.literal(2),
  origin: name,
  epoch: z
    .number()
    .int()
    .min(1)
    .max(MAX_EPOCH - 1),
  system: name,
  kind: name,
  last: sequence,
  events: z.custom<unknown[]>(Array.isArray, "must be an array"),
});

const envelopeV1 = z.object({
  v: z.literal(1),
  origin: name,
  seq: sequence,
  system: name,
  kind: name,
  path: z.string(),
  data: z.unknown().optional(),
});

/** A decoded message of either version: the events stay flat (path, data, path, data, ...). */
export interface WireMessage {
  readonly origin: string;
  /** 0 for version 1, which has no epochs. */
  readonly epoch: number;
  readonly system: string;
  readonly kind: string;
  readonly last: number;
  /** How many events `events` holds (its length / 2); 0 for a heartbeat. */
  readonly count: number;
  readonly events: readonly unknown[];
}

export type DecodeResult = { ok: true; message: WireMessage } | { ok: false; reason: string };

/** What an exporter puts in front of a batch. */
export interface BatchHeader {
  readonly origin: string;
  readonly epoch: number;
  readonly system: string;
  readonly kind: string;
  readonly last: number;
}

// moreTypes carries structured-cloneable values JSON cannot (typed arrays, Set, Error, RegExp...).
// copyBuffers: decoded binary data gets its own memory instead of a view into the socket's chunk.
const packr = new Packr({ useRecords: false, moreTypes: true, copyBuffers: true });

const NO_EVENTS: readonly unknown[] = Object.freeze([]);

/**
 * Encodes one message. `events` is flat (path, data, ...) and is read, not kept: the caller may
 * reuse the array. Throws what msgpackr throws for data it cannot encode (a symbol, say).
 */
export function encodeMessage(header: BatchHeader, events: readonly unknown[] = NO_EVENTS): Uint8Array {
  return packr.pack({
    v: WIRE_VERSION,
    origin: header.origin,
    epoch: header.epoch,
    system: header.system,
    kind: header.kind,
    last: header.last,
    events,
  });
}

/** Decodes and validates one payload, version 1 or 2; never throws. */
export function decodeMessage(payload: Uint8Array): DecodeResult {
  let value: unknown;
  try {
    value = packr.unpack(payload);
  } catch (err) {
    return { ok: false, reason: `not MessagePack (${(err as Error).message})` };
  }
  const version = typeof value === "object" && value !== null ? (value as { v?: unknown }).v : undefined;
  if (version === 2) return decodeV2(value);
  if (version === 1) return decodeV1(value);
  return { ok: false, reason: `v: must be 1 or 2, not ${String(version)}` };
}

function decodeV2(value: unknown): DecodeResult {
  const parsed = headerV2.safeParse(value);
  if (!parsed.success) return invalid(parsed.error);
  const { origin, epoch, system, kind, last, events } = parsed.data;
  if (events.length % 2 !== 0) return { ok: false, reason: "events: must hold (path, data) pairs" };
  const count = events.length / 2;
  if (last !== 0 && count > last) return { ok: false, reason: `last: ${last} cannot end ${count} events` };
  for (let i = 0; i < events.length; i += 2) {
    if (typeof events[i] !== "string") return { ok: false, reason: `events.${i}: a path must be a string` };
  }
  return { ok: true, message: { origin, epoch, system, kind, last, count, events } };
}

function decodeV1(value: unknown): DecodeResult {
  const parsed = envelopeV1.safeParse(value);
  if (!parsed.success) return invalid(parsed.error);
  const { origin, seq, system, kind, path, data } = parsed.data;
  return { ok: true, message: { origin, epoch: 0, system, kind, last: seq, count: 1, events: [path, data] } };
}

function invalid(error: z.ZodError): DecodeResult {
  const issue = error.issues[0];
  const field = issue?.path.length ? issue.path.join(".") : "envelope";
  return { ok: false, reason: `${field}: ${issue?.message ?? "invalid"}` };
}

/** A fresh epoch for one bridge run: random, in [1, MAX_EPOCH). */
export function newEpoch(): number {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  let epoch = 0;
  for (const byte of bytes) epoch = epoch * 256 + byte;
  return epoch === 0 ? 1 : epoch;
}
