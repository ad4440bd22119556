import { readFileSync, readlinkSync } from "node:fs";

/**
 * Per-thread CPU time. The dispatcher reports its own in inspect(); @threadbus/lua's limits use it
 * to tell a thread that runs too long from one the OS did not let run: on a loaded machine (the
 * 2-vCPU class, shared, at load 7-14) a resume needing 2 ms of CPU took over 100 ms of wall time,
 * so its limits fire on wall time only once the thread also used that much CPU.
 *
 * Node 20 has no per-thread CPU clock (`process.cpuUsage()` sums every thread, and
 * `process.threadCpuUsage()` arrives in Node 23), so on Linux this reads /proc: the kernel's clock
 * tick (10 ms at USER_HZ 100) is its resolution, and a read costs ~10-20 µs. Elsewhere every
 * function here says null. Never call them on a hot path.
 */
const TICK_MS = 10;

function cpuFromStat(path: string): number | null {
  let stat: string;
  try {
    stat = readFileSync(path, "latin1");
  } catch {
    return null;
  }
  // Fields after the command name, which may itself hold spaces and parentheses: the last ")" ends it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the name (0-based).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * TICK_MS : null;
}

/** CPU time (user + system, in ms) the calling thread used so far, or null where the platform does not say. */
export function threadCpuMs(): number | null {
  return cpuFromStat("/proc/thread-self/stat");
}

/** The OS id of the calling thread (for taskCpuMs from another thread), or null. */
export function osThreadId(): number | null {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) ? tid : null;
  } catch {
    return null;
  }
}

/** CPU time (ms) used so far by thread `tid` of this process (from osThreadId()), or null. */
export function taskCpuMs(tid: number): number | null {
  return cpuFromStat(`/proc/self/task/${tid}/stat`);
}
