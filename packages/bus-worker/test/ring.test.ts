import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { sharedLayout, writeLayout } from "../dist/constants.js";
import { CLAIM_CLOSED, CLAIM_FULL, PADDING_TYPE, RecordTooLargeError, Ring } from "../dist/ring.js";

function makeRing(capacity: number): { ring: Ring; buffer: SharedArrayBuffer } {
  const layout = sharedLayout(capacity, 1, 1, 0);
  const buffer = new SharedArrayBuffer(layout.byteLength);
  writeLayout(buffer, layout, 1000);
  return { ring: new Ring(buffer), buffer };
}

/** Writes one record whose single payload word is `value`. */
function put(ring: Ring, value: number, length = 16): number {
  const offset = ring.tryClaim(length, 0);
  if (offset < 0) return offset;
  ring.words[(offset >> 2) + 2] = value;
  ring.publish(offset, length, 1);
  return offset;
}

function drain(ring: Ring, limit = Number.POSITIVE_INFINITY): number[] {
  const seen: number[] = [];
  ring.read((_type, offset) => {
    seen.push(ring.words[(offset >> 2) + 2]!);
    return true;
  }, limit);
  return seen;
}

describe("ring", () => {
  it("reads records in claim order and frees their space", () => {
    const { ring } = makeRing(1024);
    for (let i = 0; i < 10; i++) put(ring, i);
    expect(ring.used).toBe(160);
    expect(drain(ring)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ring.used).toBe(0);
    expect(drain(ring)).toEqual([]);
  });

  it("leaves a padding record at the wrap and keeps every record contiguous", () => {
    const { ring } = makeRing(1024);
    // 200-byte records: five fill 1000 bytes; the sixth does not fit in the last 24 bytes.
    for (let i = 0; i < 5; i++) put(ring, i, 200);
    expect(drain(ring)).toEqual([0, 1, 2, 3, 4]);
    const offset = put(ring, 5, 200);
    expect(offset).toBe(0);
    expect(ring.words[1000 >> 2]).toBe(24);
    expect(ring.words[(1000 >> 2) + 1]).toBe(PADDING_TYPE);
    expect(ring.used).toBe(224);
    expect(drain(ring)).toEqual([5]);
    expect(ring.used).toBe(0);
    // The padding and the record were zeroed when freed.
    expect(ring.words.every((word) => word === 0)).toBe(true);
  });

  it("reports CLAIM_FULL when the ring has no room, and takes records again once read", () => {
    const { ring } = makeRing(1024);
    let written = 0;
    while (put(ring, written, 64) !== CLAIM_FULL) written++;
    expect(written).toBe(16);
    expect(drain(ring, 4)).toEqual([0, 1, 2, 3]);
    for (let i = 0; i < 4; i++) expect(put(ring, 100 + i, 64)).toBeGreaterThanOrEqual(0);
    expect(put(ring, 999, 64)).toBe(CLAIM_FULL);
    expect(drain(ring)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 100, 101, 102, 103]);
  });

  it("reads a ring filled to the last byte once, and nothing twice", () => {
    const { ring } = makeRing(1024);
    for (let i = 0; i < 16; i++) expect(put(ring, i, 64)).toBeGreaterThanOrEqual(0);
    expect(ring.used).toBe(1024);
    expect(drain(ring)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(ring.used).toBe(0);
    expect(drain(ring)).toEqual([]);
  });

  it("counts padding against the room, so a wrap into a full ring is refused", () => {
    const { ring } = makeRing(1024);
    for (let i = 0; i < 5; i++) put(ring, i, 200);
    expect(drain(ring, 1)).toEqual([0]);
    // 200 bytes are free at the start and 24 at the end: the wrap needs exactly those 224.
    expect(put(ring, 5, 200)).toBe(0);
    expect(put(ring, 6, 8)).toBe(CLAIM_FULL);
  });

  it("does not read past a claimed record that is not yet published", () => {
    const { ring } = makeRing(1024);
    const pending = ring.tryClaim(16, 0);
    put(ring, 2);
    expect(drain(ring)).toEqual([]);
    ring.words[(pending >> 2) + 2] = 1;
    ring.publish(pending, 16, 1);
    expect(drain(ring)).toEqual([1, 2]);
  });

  it("leaves a record the handler refuses in the ring, to be read again", () => {
    const { ring } = makeRing(1024);
    for (let i = 0; i < 3; i++) put(ring, i);
    let calls = 0;
    ring.read((_t, offset) => ring.words[(offset >> 2) + 2] !== 1 || calls++ > 0, 10);
    expect(drain(ring)).toEqual([1, 2]);
  });

  it("throws RecordTooLargeError (code INVALID_EVENT, field data) for a record over a quarter of the ring", () => {
    const { ring } = makeRing(1024);
    expect(ring.tryClaim(256, 0)).toBe(0);
    let caught: unknown;
    try {
      ring.tryClaim(257, 0);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RecordTooLargeError);
    expect(caught).toMatchObject({
      code: "INVALID_EVENT",
      field: "data",
      recordBytes: 257,
      maxRecordBytes: 256,
    });
  });

  it("refuses every claim once closed, and still reads what was claimed before", () => {
    const { ring } = makeRing(1024);
    put(ring, 1);
    const pending = ring.tryClaim(16, 0);
    ring.close();
    expect(ring.closed).toBe(true);
    expect(ring.tryClaim(16, 0)).toBe(CLAIM_CLOSED);
    ring.words[(pending >> 2) + 2] = 2;
    expect(ring.publish(pending, 16, 1)).toBe(true);
    expect(drain(ring)).toEqual([1, 2]);
  });

  it("loses, duplicates, tears and reorders nothing with 4 producer threads x 250k records", async () => {
    const { ring, buffer } = makeRing(1 << 16);
    const producers = 4;
    const perProducer = 250_000;
    const workers = Array.from(
      { length: producers },
      (_, producer) =>
        new Worker(new URL("./fixtures/ring_producer.mjs", import.meta.url), {
          workerData: { buffer, producer, count: perProducer },
        }),
    );
    const exited = workers.map(
      (worker) =>
        new Promise<number>((resolve, reject) => {
          worker.once("error", reject);
          worker.once("exit", resolve);
        }),
    );
    const next = new Array<number>(producers).fill(0);
    const problems: string[] = [];
    let total = 0;
    const check = (_type: number, offset: number, length: number): boolean => {
      const base = (offset >> 2) + 2;
      const producer = ring.words[base]!;
      const seq = ring.words[base + 1]!;
      const words = seq % 13;
      if (length !== 16 + words * 4) problems.push(`length ${length} for ${producer}:${seq}`);
      if (seq !== next[producer]) problems.push(`${producer}: expected ${next[producer]}, got ${seq}`);
      next[producer] = seq + 1;
      for (let i = 0; i < words; i++)
        if (ring.words[base + 2 + i] !== (seq ^ producer)) problems.push(`torn ${producer}:${seq}`);
      total++;
      return problems.length < 10;
    };
    const deadline = Date.now() + 60_000;
    while (total < producers * perProducer && problems.length === 0 && Date.now() < deadline) {
      if (ring.read(check, 4096) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(problems).toEqual([]);
    expect(await Promise.all(exited)).toEqual([0, 0, 0, 0]);
    expect(next).toEqual([perProducer, perProducer, perProducer, perProducer]);
    expect(ring.used).toBe(0);
  }, 90_000);
});
