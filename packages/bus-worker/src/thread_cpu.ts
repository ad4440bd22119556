import { readFileSync } from "node:fs";

/**
 * CPU time (user + system, in ms) used so far by the calling thread, or null where the platform
 * does not say. Node 20 has no per-thread CPU clock (`process.cpuUsage()` sums every thread, and
 * `process.threadCpuUsage()` arrives in Node 23), so on Linux this reads the calling thread's
 * /proc/thread-self/stat: its resolution is the kernel's clock tick (10 ms at USER_HZ 100), enough
 * to say what share of a core a thread used over a second or more. Never call it on a hot path.
 */
export function threadCpuMs(): number | null {
  let stat: string;
  try {
    stat = readFileSync("/proc/thread-self/stat", "latin1");
  } catch {
    return null;
  }
  // Fields after the command name, which may itself hold spaces and parentheses: the last ")" ends it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the name (0-based).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * TICK_MS : null;
}

/** USER_HZ is 100 on every Linux architecture Node supports. */
const TICK_MS = 10;
