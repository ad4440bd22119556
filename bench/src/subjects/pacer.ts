import * as hdr from "hdr-histogram-js";
import { nowNs } from "../stats.js";

/**
 * Offers events at a fixed rate for `durationMs`: each turn of the event loop sends every event
 * that is due by now, stamped with its *intended* send time, so a stalled receiver shows up as
 * latency instead of as a slower offered rate (no coordinated omission). `endOfTurn` runs after
 * each turn's sends (the hand-batched peer flushes there).
 */
export async function offerAtRate(
  rate: number,
  durationMs: number,
  send: (intendedNs: number) => void,
  endOfTurn?: () => void,
): Promise<number> {
  const total = Math.round((rate * durationMs) / 1000);
  const interval = 1e9 / rate;
  const start = nowNs();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((nowNs() - start) / interval) + 1);
    for (; sent < due; sent++) send(start + sent * interval);
    endOfTurn?.();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return total;
}

/** A histogram of nanosecond latencies (1 ns to 100 s, 3 significant digits). */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 100e9,
    numberOfSignificantValueDigits: 3,
  });
}

/** The repeat's figures in µs; the headline value is the p50. */
export function latencySample(histogram: hdr.Histogram): {
  value: number;
  p50: number;
  p99: number;
  p999: number;
} {
  const p50 = histogram.getValueAtPercentile(50) / 1000;
  return {
    value: p50,
    p50,
    p99: histogram.getValueAtPercentile(99) / 1000,
    p999: histogram.getValueAtPercentile(99.9) / 1000,
  };
}
