import type { BusEvent } from "@threadbus/core";
import { Packr } from "msgpackr";
import { z } from "zod";

/**
 * The wire format, version 1: one NATS message per event, no headers, the payload a MessagePack
 * map (plain maps, no msgpackr records, so any MessagePack library can read it):
 *
 *   { v: 1, origin: string, seq: number, system: string, kind: string, path: string, data?: any }
 *
 * - `origin` is the exporting bridge's id: a bridge never imports its own events.
 * - `seq` counts the origin's events per subject from 1 (0 = not tracked); an importer uses it to
 *   count events lost on the way (a gap) and to skip duplicates (a message that matched two of
 *   its subscriptions).
 * - the subject must be `<prefix>.<system>.<kind>` as `subjectFor` writes it; a message whose
 *   subject disagrees with its envelope is refused as bad.
 * A change to these fields bumps `v`; an importer refuses (and counts) versions it does not know.
 */
export const WIRE_VERSION = 1;

export const envelopeSchema = z.object({
  v: z.literal(WIRE_VERSION),
  origin: z.string().min(1),
  seq: z.number().int().nonnegative(),
  system: z.string().min(1),
  kind: z.string().min(1),
  path: z.string(),
  data: z.unknown().optional(),
});

export type Envelope = z.infer<typeof envelopeSchema>;

// moreTypes carries structured-cloneable values JSON cannot (typed arrays, Set, Error, RegExp...).
const packr = new Packr({ useRecords: false, moreTypes: true });

export function encodeEnvelope(origin: string, seq: number, event: BusEvent): Uint8Array {
  const envelope: Envelope = {
    v: WIRE_VERSION,
    origin,
    seq,
    system: event.system,
    kind: event.kind,
    path: event.path,
  };
  if (event.data !== undefined) envelope.data = event.data;
  return packr.pack(envelope);
}

export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; reason: string };

/** Decodes and validates one payload; never throws. */
export function decodeEnvelope(payload: Uint8Array): DecodeResult {
  let value: unknown;
  try {
    value = packr.unpack(payload);
  } catch (err) {
    return { ok: false, reason: `not MessagePack (${(err as Error).message})` };
  }
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join(".") : "envelope";
    return { ok: false, reason: `${field}: ${issue?.message ?? "invalid"}` };
  }
  return { ok: true, envelope: parsed.data };
}
