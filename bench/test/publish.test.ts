import { Bus, type BusEvent } from "@threadbus/core";
import { describe, expect, it } from "vitest";
import { scaleLabel } from "../src/scenarios/j_scale.js";
import { Counter } from "../src/subjects/counter.js";
import { publishWindowed, publishWithBackPressure } from "../src/subjects/publish.js";

const makeEvent = (seq: number): BusEvent => ({ system: "orders", kind: "created", path: "o/1", data: seq });

describe("publishWindowed", () => {
  it("never has more than `window` events sent and not yet received, delivers all, and never flushes", async () => {
    const bus = new Bus();
    const counter = new Counter(await bus.subscribe("orders", "created"));
    let sent = 0;
    let mostInFlight = 0;
    let flushes = 0;
    const send = bus.send.bind(bus);
    bus.send = (event) => {
      const accepted = send(event);
      if (accepted) mostInFlight = Math.max(mostInFlight, ++sent - counter.count);
      return accepted;
    };
    const flush = bus.flush.bind(bus);
    bus.flush = () => {
      flushes++;
      return flush();
    };
    await publishWindowed(bus, 5_000, makeEvent, counter, 64);
    await counter.until(5_000);
    expect(sent).toBe(5_000);
    expect(mostInFlight).toBeGreaterThan(1);
    expect(mostInFlight).toBeLessThanOrEqual(64);
    expect(flushes).toBe(0);
    await bus.stop();
  });

  it("counts the window from what the counter had already received before the call", async () => {
    const bus = new Bus();
    const counter = new Counter(await bus.subscribe("orders", "created"));
    await publishWindowed(bus, 300, makeEvent, counter, 16);
    await counter.until(300);
    await publishWindowed(bus, 300, makeEvent, counter, 16);
    await counter.until(600);
    expect(counter.count).toBe(600);
    await bus.stop();
  });
});

describe("publishWithBackPressure", () => {
  it("rejects instead of retrying forever once the bus is closed", async () => {
    const bus = new Bus();
    await bus.stop();
    await expect(publishWithBackPressure(bus, 10, makeEvent)).rejects.toThrow("closed");
  });
});

describe("j-scale case labels", () => {
  it("marks a shape oversubscribed when the bus needs more busy threads (P + S + dispatcher) than cores", () => {
    expect(scaleLabel(4, 4, 320_000, 16)).toBe("4x4: 4 publishers x 4 subscribers, 320,000 events in");
    expect(scaleLabel(8, 4, 320_000, 16)).toBe("8x4: 8 publishers x 4 subscribers, 320,000 events in");
    expect(scaleLabel(1, 1, 16_000, 2)).toBe(
      "1x1: 1 publisher x 1 subscriber, 16,000 events in (oversubscribed: 3 busy threads on 2 cores)",
    );
    expect(scaleLabel(8, 8, 1_000, 16)).toContain("oversubscribed: 17 busy threads on 16 cores");
  });
});
