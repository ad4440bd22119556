/** Mean, min, max and sample standard deviation of the per-repeat values. */
export function summarise(samples: readonly number[]): {
  mean: number;
  min: number;
  max: number;
  stddev: number;
} {
  const n = samples.length;
  const mean = samples.reduce((sum, x) => sum + x, 0) / n;
  const variance = n > 1 ? samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, min: Math.min(...samples), max: Math.max(...samples), stddev: Math.sqrt(variance) };
}

/** Nanoseconds since an arbitrary origin, as a number (precise to well under 1 µs for days). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Lets timers, I/O and worker messages run, so one subject's leftovers do not land in the next. */
export function settle(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a full GC when node was started with --expose-gc (the `bench` script does that). */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  gc();
  gc();
  return true;
}
