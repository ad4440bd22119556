import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { newEpoch } from "../src/envelope.js";
import { decodeMessage, encodeMessage, MAX_EPOCH, WIRE_VERSION } from "../src/index.js";

const packr = new Packr({ useRecords: false });
const header = { origin: "o", epoch: 9, system: "registry", kind: "entry.update", last: 3 };

describe("wire format", () => {
  it("round-trips a batch in version 2, keeping absent data apart from null", () => {
    const events = ["a", { x: [1, 2] }, "b", undefined, "c", null];
    const decoded = decodeMessage(encodeMessage(header, events));
    expect(decoded).toEqual({ ok: true, message: { ...header, count: 3, events } });
    if (!decoded.ok) return;
    expect(Object.hasOwn(decoded.message.events, 3)).toBe(true);
    expect(decoded.message.events[3]).toBeUndefined();
    expect(decoded.message.events[5]).toBeNull();
  });

  it("writes a heartbeat as a message with no events", () => {
    const decoded = decodeMessage(encodeMessage(header));
    expect(decoded).toMatchObject({ ok: true, message: { last: 3, count: 0, events: [] } });
  });

  it("is a plain MessagePack map with the documented fields", () => {
    const value = packr.unpack(encodeMessage(header, ["p", 1]));
    expect(value).toEqual({ v: WIRE_VERSION, ...header, events: ["p", 1] });
  });

  it("still reads version 1 as a one-event message of epoch 0", () => {
    const v1 = packr.pack({ v: 1, origin: "o", seq: 5, system: "s", kind: "k", path: "p", data: 7 });
    expect(decodeMessage(v1)).toEqual({
      ok: true,
      message: { origin: "o", epoch: 0, system: "s", kind: "k", last: 5, count: 1, events: ["p", 7] },
    });
  });

  const good = { v: 2, ...header, events: ["a", 1, "b", 2, "c", 3] };
  const bad: [string, unknown, RegExp][] = [
    ["an unknown version", { ...good, v: 3 }, /^v: /],
    ["a missing origin", { ...good, origin: undefined }, /^origin: /],
    ["epoch 0", { ...good, epoch: 0 }, /^epoch: /],
    ["an epoch past 2^48", { ...good, epoch: MAX_EPOCH }, /^epoch: /],
    ["a fractional last", { ...good, last: 1.5 }, /^last: /],
    ["a last past 2^53", { ...good, last: 2 ** 60 }, /^last: /],
    ["events that are not an array", { ...good, events: { 0: "a" } }, /^events: must be an array/],
    ["an odd events array", { ...good, events: ["a", 1, "b"] }, /pairs/],
    [
      "a path that is not a string",
      { ...good, events: ["a", 1, 2, 2, "c", 3] },
      /^events\.2: a path must be a string/,
    ],
    ["more events than numbers", { ...good, last: 2 }, /^last: 2 cannot end 3 events/],
    ["an empty system", { ...good, system: "" }, /^system: /],
  ];
  for (const [what, value, reason] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      const decoded = decodeMessage(packr.pack(value));
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.reason).toMatch(reason);
    });
  }

  it("takes unnumbered batches (last 0) of any length", () => {
    expect(decodeMessage(packr.pack({ ...good, last: 0 }))).toMatchObject({
      ok: true,
      message: { count: 3 },
    });
  });

  it("draws epochs in [1, 2^48), different from run to run", () => {
    const epochs = new Set(Array.from({ length: 1000 }, newEpoch));
    expect(epochs.size).toBe(1000);
    for (const epoch of epochs) {
      expect(Number.isSafeInteger(epoch)).toBe(true);
      expect(epoch).toBeGreaterThanOrEqual(1);
      expect(epoch).toBeLessThan(MAX_EPOCH);
    }
  });
});
