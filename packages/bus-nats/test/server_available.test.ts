import { describe, expect, it } from "vitest";
import { IN_CI, MISSING_SERVER_MESSAGE, NATS_SERVER } from "./fixtures/nats_server.js";

describe("test environment", () => {
  // In CI a missing server must fail the run: the bridge tests would otherwise pass by skipping.
  it.runIf(IN_CI || NATS_SERVER !== null)("has a nats-server binary to run the bridge tests against", () => {
    expect(NATS_SERVER, MISSING_SERVER_MESSAGE).not.toBeNull();
  });
});
