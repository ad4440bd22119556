import { InvalidOptionsError, parseOptions } from "@threadbus/core";
import { z } from "zod";
import { MonitorTokenRequiredError } from "./errors.js";

export interface MonitorOptions {
  /** TCP port; 0 (default) picks a free one (read it from `monitor.url`). */
  port?: number;
  /** Interface to bind. Default "127.0.0.1"; any other than loopback requires `token`. */
  host?: string;
  /**
   * Required on every request (`Authorization: Bearer <token>`, or `?token=` once, which sets a
   * cookie for the page). At least 16 characters; compared in constant time.
   */
  token?: string;
  /** Show event payloads (`data`) in the live tail. Default false: payloads may hold secrets. */
  showData?: boolean;
  /** How often the rate history is sampled, in ms. Default 1000. */
  sampleIntervalMs?: number;
  /** How much rate history is kept for the charts, in seconds. Default 600 (ten minutes). */
  historySeconds?: number;
  /** Live tails streaming at once at most; one more gets 503. Default 4. */
  maxTails?: number;
}

export interface ResolvedMonitorOptions {
  port: number;
  host: string;
  token: string | null;
  showData: boolean;
  sampleIntervalMs: number;
  historySeconds: number;
  maxTails: number;
}

function integer(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z.number(message).int(message).min(min, message).max(max, message);
}

const PORT = "must be an integer from 0 to 65535";
const monitorOptionsSchema = z.strictObject({
  port: z.number(PORT).int(PORT).min(0, PORT).max(65535, PORT).optional(),
  host: z
    .string("must be a host name or address")
    .min(1, "must be a non-empty host name or address")
    .optional(),
  token: z
    .string("must be a string")
    .min(16, "must be at least 16 characters")
    .max(1024, "must be at most 1024 characters")
    .optional(),
  showData: z.boolean("must be a boolean").optional(),
  sampleIntervalMs: integer(100, 60_000).optional(),
  historySeconds: integer(10, 86_400).optional(),
  maxTails: integer(0, 64).optional(),
});

/** Loopback names and addresses: the only hosts that may be bound without a token. */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * Validates every option up front: InvalidOptionsError (code INVALID_OPTIONS, naming the option,
 * unknown keys included) or MonitorTokenRequiredError for a non-loopback host without a token.
 */
export function resolveMonitorOptions(options: MonitorOptions | undefined): ResolvedMonitorOptions {
  if (options !== undefined && (typeof options !== "object" || options === null))
    throw new InvalidOptionsError("options: must be an object", "options");
  const data = parseOptions(monitorOptionsSchema, options);
  const host = data.host ?? "127.0.0.1";
  const token = data.token ?? null;
  if (token === null && !isLoopback(host)) throw new MonitorTokenRequiredError(host);
  return {
    port: data.port ?? 0,
    host,
    token,
    showData: data.showData ?? false,
    sampleIntervalMs: data.sampleIntervalMs ?? 1000,
    historySeconds: data.historySeconds ?? 600,
    maxTails: data.maxTails ?? 4,
  };
}
