import { describe, expect, it } from "vitest";
import { SequenceTracker, type Verdict } from "../src/sequence_tracker.js";

const KEY = SequenceTracker.key("p.s.k", 1, "A");

function tracker(window = 1000, capacity = 100) {
  return new SequenceTracker({ capacity, window });
}

function counters(t: SequenceTracker) {
  return { lost: t.lost, duplicates: t.duplicates, resyncs: t.resyncs };
}

/** A small deterministic generator (mulberry32), so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("SequenceTracker", () => {
  it("delivers batches in order and counts nothing", () => {
    const t = tracker();
    expect(t.observe(KEY, 5, 5)).toBe("all");
    expect(t.observe(KEY, 9, 4)).toBe("all");
    expect(t.observe(KEY, 9, 0)).toBe("all"); // a heartbeat that agrees
    expect(counters(t)).toEqual({ lost: 0, duplicates: 0, resyncs: 0 });
  });

  it("counts a gap in lost, and a late message filling it comes back out", () => {
    const t = tracker();
    t.observe(KEY, 10, 10);
    expect(t.observe(KEY, 30, 10)).toBe("all"); // 11..20 missing
    expect(t.lost).toBe(10);
    expect(t.observe(KEY, 15, 5)).toBe("all"); // 11..15 arrive late
    expect(t.lost).toBe(5);
    expect(t.observe(KEY, 15, 5)).toBe("none"); // and again: duplicates now
    expect(counters(t)).toEqual({ lost: 5, duplicates: 5, resyncs: 0 });
  });

  it("skips the same message through a second subscription as duplicates", () => {
    const t = tracker();
    t.observe(KEY, 100, 100);
    expect(t.observe(KEY, 100, 100)).toBe("none");
    expect(counters(t)).toEqual({ lost: 0, duplicates: 100, resyncs: 0 });
  });

  it("delivers only the new part of a message that overlaps what was seen", () => {
    const t = tracker();
    t.observe(KEY, 4, 4);
    expect(t.observe(KEY, 6, 4)).toEqual([false, false, true, true]);
    expect(t.duplicates).toBe(2);
  });

  it("counts the tail a heartbeat announces", () => {
    const t = tracker();
    t.observe(KEY, 10, 10);
    t.observe(KEY, 17, 0);
    expect(t.lost).toBe(7);
    t.observe(KEY, 17, 0);
    expect(t.lost).toBe(7);
  });

  it("counts a jump beyond the window once as a resync, and is not silenced by it", () => {
    const t = tracker(1000);
    t.observe(KEY, 500, 500);
    expect(t.observe(KEY, 1e15, 1)).toBe("all"); // forged
    expect(counters(t)).toEqual({ lost: 0, duplicates: 0, resyncs: 1 });
    expect(t.observe(KEY, 501, 1)).toBe("all"); // the real stream goes on
    expect(t.observe(KEY, 502, 1)).toBe("all");
    expect(counters(t)).toEqual({ lost: 0, duplicates: 0, resyncs: 2 });
    // A heartbeat far behind resynchronises too.
    t.observe(KEY, 1e15, 0);
    t.observe(KEY, 503, 1);
    expect(t.lost).toBe(0);
  });

  it("lets a forged jump inside the window cost at most the window, undone as the real events come", () => {
    const t = tracker(1000);
    t.observe(KEY, 100, 100);
    t.observe(KEY, 1099, 1); // forged: 101..1098 counted lost
    expect(t.lost).toBe(998);
    for (let seq = 101; seq <= 1200; seq++) t.observe(KEY, seq, 1);
    // Every real event was delivered but the one whose number the forgery took.
    expect(counters(t)).toEqual({ lost: 0, duplicates: 1, resyncs: 0 });
  });

  it("keeps at most maxHoles holes, merging the oldest", () => {
    const t = new SequenceTracker({ capacity: 10, window: 1000, maxHoles: 2 });
    t.observe(KEY, 1, 1);
    t.observe(KEY, 3, 1); // hole 2
    t.observe(KEY, 5, 1); // hole 4
    t.observe(KEY, 7, 1); // hole 6: holes 2 and 4 merge into 2..4
    expect(t.lost).toBe(3);
    expect(t.observe(KEY, 3, 1)).toBe("all"); // inside the merged hole: accepted
    expect(t.observe(KEY, 6, 1)).toBe("all");
    expect(t.lost).toBe(1);
  });

  it("tracks each (origin, epoch, subject) apart: a new epoch starts a new stream", () => {
    const t = tracker();
    t.observe(SequenceTracker.key("p.s.k", 1, "A"), 500, 500);
    expect(t.observe(SequenceTracker.key("p.s.k", 2, "A"), 1, 1)).toBe("all");
    expect(t.observe(SequenceTracker.key("p.s.k", 1, "B"), 1, 1)).toBe("all");
    expect(t.observe(SequenceTracker.key("p.s.x", 1, "A"), 1, 1)).toBe("all");
    expect(counters(t)).toEqual({ lost: 0, duplicates: 0, resyncs: 0 });
    expect(t.size).toBe(4);
  });

  it("remembers at most `capacity` streams, forgetting the least recently heard from", () => {
    const t = tracker(1000, 2);
    const [a, b, c] = ["a", "b", "c"].map((o) => SequenceTracker.key("s", 1, o)) as [string, string, string];
    t.observe(a, 1, 1);
    t.observe(b, 1, 1);
    t.observe(a, 2, 1); // a is now the most recent
    t.observe(c, 1, 1); // b is forgotten
    expect(t.size).toBe(2);
    t.observe(a, 2, 1);
    expect(t.duplicates).toBe(1); // a was kept
    t.observe(b, 1, 1);
    expect(t.duplicates).toBe(1); // b starts afresh: not a duplicate
  });

  it("leaves unnumbered messages (last 0) alone", () => {
    const t = tracker();
    expect(t.observe(KEY, 0, 5)).toBe("all");
    expect(t.observe(KEY, 0, 5)).toBe("all");
    expect(t.size).toBe(0);
  });

  // Generous timeouts: fast alone (well under a second), but the machine is shared.
  it("keeps delivered + lost == sent through random loss, duplication and reordering", {
    timeout: 120_000,
  }, () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = random(seed);
      const t = tracker(1_000_000);
      const delivered = new Set<number>();
      let twice = 0;
      let sent = 0;
      let held: [number, number] | null = null; // a message overtaken by the next one
      const deliver = (last: number, count: number) => {
        const verdict: Verdict = t.observe(KEY, last, count);
        for (let i = 0; i < count; i++) {
          if (verdict === "all" || (verdict !== "none" && verdict[i])) {
            const seq = last - count + 1 + i;
            if (delivered.has(seq)) twice++;
            delivered.add(seq);
          }
        }
      };
      for (let m = 0; m < 2000; m++) {
        const count = 1 + Math.floor(rand() * 20);
        sent += count;
        // The first message always arrives: a stream is tracked from the first one an importer
        // hears, and what came before it is not counted (it may predate the subscription).
        const r = m === 0 ? 1 : rand();
        if (r < 0.1) continue; // lost
        if (r < 0.15 && held === null) {
          held = [sent, count]; // overtaken: arrives after the next message
          continue;
        }
        deliver(sent, count);
        if (r < 0.25) deliver(sent, count); // a duplicate
        if (held !== null) {
          deliver(...held);
          held = null;
        }
      }
      if (held !== null) deliver(...held);
      deliver(sent, 0); // the final heartbeat
      expect(twice, `seed ${seed}: events delivered twice`).toBe(0);
      expect(delivered.size + t.lost, `seed ${seed}`).toBe(sent);
      expect(t.resyncs).toBe(0);
    }
  });

  it("bounds what any one message does to the counters, forged or not", { timeout: 120_000 }, () => {
    const window = 1000;
    const t = tracker(window);
    const rand = random(42);
    let real = 0;
    const violations: string[] = [];
    for (let m = 0; m < 20_000; m++) {
      const forged = rand() < 0.3;
      const count = Math.floor(rand() * 8);
      let last: number;
      if (forged) {
        const choices = [real + Math.floor(rand() * 3 * window) - window, 1e15, Math.floor(rand() * 100)];
        last = Math.max(count, choices[Math.floor(rand() * choices.length)]!);
      } else {
        real += count;
        last = real;
      }
      const before = counters(t);
      t.observe(KEY, last, count);
      const after = counters(t);
      // Checked by hand and reported once: 20,000 expect() calls take seconds on a loaded machine.
      const within =
        after.lost - before.lost <= window &&
        before.lost - after.lost <= count &&
        after.duplicates >= before.duplicates &&
        after.duplicates - before.duplicates <= count &&
        after.resyncs - before.resyncs <= 1;
      if (!within)
        violations.push(`message ${m} (last ${last}, ${count} events): ${JSON.stringify({ before, after })}`);
    }
    expect(violations).toEqual([]);
    expect(t.resyncs).toBeGreaterThan(0); // the forgeries did reach the window's edges
  });
});
