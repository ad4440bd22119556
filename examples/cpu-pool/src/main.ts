import { randomFillSync } from "node:crypto";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { Bus, type BusEvent } from "@threadbus/core";
import { subscribePool } from "@threadbus/worker";
import { type ResizeJob, type ResizeResult, resize } from "./resize_task.js";

const JOBS = 120;
const PUBLISHERS = 3;
const TASK_FILE = new URL("./resize_task.js", import.meta.url);

interface RunFigures {
  label: string;
  jobs: number;
  seconds: number;
  p99Ms: number;
  maxMs: number;
}

/** Three publishers emit image.resize jobs concurrently, one job per timer tick each. */
async function publish(bus: Bus, pixels: Uint8Array): Promise<void> {
  const perPublisher = JOBS / PUBLISHERS;
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async (_, publisher) => {
      for (let i = 0; i < perPublisher; i++) {
        const event: BusEvent<ResizeJob> = {
          system: "image",
          kind: "resize",
          path: `uploads/${publisher}/${i}.png`,
          data: { width: 256, height: 256, pixels },
        };
        bus.send(event);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
}

/** Runs one scenario while sampling the main thread's event-loop delay every millisecond. */
async function measure(label: string, run: (bus: Bus) => Promise<number>): Promise<RunFigures> {
  const bus = new Bus();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const started = performance.now();
  const jobs = await run(bus);
  const seconds = (performance.now() - started) / 1000;
  histogram.disable();
  await bus.stop();
  return { label, jobs, seconds, p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 };
}

async function main(): Promise<void> {
  // Mostly compressible pixels (a gradient with some noise), so deflate has real work to do.
  const pixels = new Uint8Array(256 * 256 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i >> 4) & 0xff;
  randomFillSync(pixels, 0, 4096);

  const onMain = await measure("handler on the main thread", async (bus) => {
    const subscription = await bus.subscribe<ResizeJob>("image", "resize");
    const publishing = publish(bus, pixels);
    let done = 0;
    for await (const event of subscription) {
      resize(event);
      if (++done === JOBS) break;
    }
    await publishing;
    return done;
  });

  const inPool = await measure("handler in a piscina pool", async (bus) => {
    let done = 0;
    let failed = 0;
    let finish = () => {};
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const pool = await subscribePool<ResizeJob, ResizeResult>(bus, "image", "resize", {
      filename: TASK_FILE,
      pool: { minThreads: 2, maxThreads: 2 },
      bufferSize: 16,
      overflow: "block",
      onResult: () => {
        if (++done + failed === JOBS) finish();
      },
      onError: (event, error) => {
        console.error(`job ${event.path} failed:`, error);
        if (done + ++failed === JOBS) finish();
      },
    });
    await publish(bus, pixels);
    await finished;
    await pool.close();
    if (failed > 0) throw new Error(`${failed} jobs failed`);
    return done;
  });

  console.log(
    `${JOBS} image.resize jobs (deflate level 9 + 64 x sha256 of ${pixels.byteLength} bytes each), ${PUBLISHERS} publishers`,
  );
  console.log("scenario                     jobs/s   loop delay p99   max");
  for (const run of [onMain, inPool]) {
    const rate = (run.jobs / run.seconds).toFixed(0).padStart(6);
    console.log(
      `${run.label.padEnd(28)} ${rate}   ${run.p99Ms.toFixed(1).padStart(9)} ms   ${run.maxMs.toFixed(1)} ms`,
    );
  }
  console.log("In the pool the main thread only routes events, so it stays free to serve timers and I/O.");
}

await main();
