import type { BusEvent } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { DELIVERY_RING_BYTES } from "../dist/shm/delivery_layout.js";
import { useBuses } from "./support.js";

// A thread whose event loop is busy cannot drain its delivery ring. The dispatcher must not wait
// for it while none of that thread's "block" subscriptions is full: the thread may be busy
// retrying sends that only the dispatcher's progress can let through (a deadlock, which froze
// attach.test.ts's stop mid-stream test at a 64 KiB delivery ring).
describe("a subscribing thread whose event loop is busy", () => {
  const start = useBuses();

  it("does not hold the dispatcher while its block subscription has room: synchronous sends past its full delivery ring all go through", async () => {
    const bus = await start({ ringBytes: 1 << 16, onFull: "drop" });
    const padding = "x".repeat(300);
    const count = 10_000;
    // Well past the thread's delivery ring plus the publish ring, well within bufferSize.
    expect(count * padding.length).toBeGreaterThan(2 * DELIVERY_RING_BYTES + (1 << 16));
    const sub = await bus.subscribe("pub", "**", { bufferSize: 2 * count, overflow: "block" });
    // Never yields: before the fix the dispatcher waited for this thread to drain, so the
    // publish ring stayed full and every send kept failing (bounded here so a failure is no hang).
    const deadline = performance.now() + 15_000;
    let sent = 0;
    while (sent < count && performance.now() < deadline)
      if (bus.send({ system: "pub", kind: "k", path: `p:${sent}`, data: { i: sent, padding } })) sent++;
    expect(sent).toBe(count);
    const seen: number[] = [];
    for await (const e of sub as AsyncIterable<BusEvent<{ i: number }>>) {
      seen.push(e.data!.i);
      if (seen.length === count) break;
    }
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(sub.stats().dropped).toBe(0);
  });
});
