/**
 * serveMonitor() refused to listen on a host other than loopback without a token: the monitor
 * shows every subscription and, with showData, event payloads, so anyone who can reach the port
 * could read them. Pass `token`, or bind 127.0.0.1 (the default).
 */
export class MonitorTokenRequiredError extends Error {
  readonly code = "MONITOR_TOKEN_REQUIRED" as const;

  constructor(readonly host: string) {
    super(
      `monitor: host '${host}' is not a loopback address: a token is required (options.token), or bind 127.0.0.1`,
    );
    this.name = "MonitorTokenRequiredError";
  }
}
