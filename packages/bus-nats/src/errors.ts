import { ThreadbusError } from "@threadbus/core";

/**
 * The first connection to NATS failed (no server, refused, auth): `NatsBridge.start` rejects with
 * it; the client's error is the `cause`. Later outages never throw: they follow the outage policy.
 */
export class NatsConnectError extends ThreadbusError {
  readonly code = "NATS_CONNECT_FAILED" as const;

  constructor(
    readonly servers: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`could not connect to NATS at ${servers.join(", ")}`, options);
  }
}
