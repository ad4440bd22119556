import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import type { BusEvent } from "@threadbus/core";

/** An "image.resize" job: the pixels to "resize" (compressed and hashed, as real CPU work). */
export interface ResizeJob {
  width: number;
  height: number;
  pixels: Uint8Array;
}

export interface ResizeResult {
  path: string;
  bytesIn: number;
  bytesOut: number;
  sha256: string;
}

/** The CPU work, shared by both runs: deflate at level 9, then hash the output a few rounds. */
export function resize(event: BusEvent<ResizeJob>): ResizeResult {
  const job = event.data!;
  const compressed = deflateSync(job.pixels, { level: 9 });
  let digest: Buffer = compressed;
  for (let round = 0; round < 64; round++)
    digest = createHash("sha256").update(digest).update(job.pixels).digest();
  return {
    path: event.path,
    bytesIn: job.pixels.byteLength,
    bytesOut: compressed.byteLength,
    sha256: digest.toString("hex"),
  };
}

/** piscina calls the default export in a worker thread with each event. */
export default resize;
