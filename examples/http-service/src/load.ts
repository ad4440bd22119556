// The bounded load step: a fixed number of requests over keep-alive connections to 127.0.0.1
// (undici's Pool), then one GET /stats.
import { Pool } from "undici";
import type { OrderRequest } from "./messages.js";

export interface LoadResult {
  requests: number;
  accepted: number;
  rejected: number;
  /** Any other status, or a request that failed. */
  failed: number;
  seconds: number;
  /** What GET /stats answered after the load. */
  stats: Record<string, unknown>;
}

/** Every 10th order names an unknown item, so the service's rejection path is loaded too. */
function order(i: number): OrderRequest {
  return i % 10 === 9
    ? { item: "spaceship", qty: 1 }
    : { item: ["book", "pen", "lamp"][i % 3]!, qty: 1 + (i % 4) };
}

export async function runLoad(origin: string, requests: number, connections: number): Promise<LoadResult> {
  const pool = new Pool(origin, { connections });
  const result: LoadResult = { requests, accepted: 0, rejected: 0, failed: 0, seconds: 0, stats: {} };
  let next = 0;
  const started = performance.now();
  const client = async () => {
    while (next < requests) {
      const body = JSON.stringify(order(next++));
      try {
        const response = await pool.request({ path: "/orders", method: "POST", body });
        await response.body.dump();
        if (response.statusCode === 201) result.accepted++;
        else if (response.statusCode === 422) result.rejected++;
        else result.failed++;
      } catch {
        result.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  result.seconds = (performance.now() - started) / 1000;
  const stats = await pool.request({ path: "/stats", method: "GET" });
  result.stats = (await stats.body.json()) as Record<string, unknown>;
  await pool.close();
  return result;
}
