/**
 * One class per error, each with a stable `code` (Node's convention): callers branch on `code`,
 * never on message text. `cause` is passed through where there is one.
 */
export type ThreadbusErrorCode =
  | "INVALID_EVENT"
  | "INVALID_PATTERN"
  | "INVALID_OPTIONS"
  | "BUS_CLOSED"
  | "SUBSCRIBER_CAP"
  | "BUS_FULL"
  | "WORKER_FAILED"
  | "TIMEOUT"
  | "ABORT_ERR"
  // @threadbus/nats: the first connection to a NATS server failed.
  | "NATS_CONNECT_FAILED";

export abstract class ThreadbusError extends Error {
  abstract readonly code: ThreadbusErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An event failed validation; `field` names the offending property ("system", "kind", ...). */
export class InvalidEventError extends ThreadbusError {
  readonly code = "INVALID_EVENT" as const;
  constructor(
    message: string,
    readonly field: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class InvalidPatternError extends ThreadbusError {
  readonly code = "INVALID_PATTERN" as const;
  constructor(
    message: string,
    readonly pattern: string,
  ) {
    super(message);
  }
}

/** An option passed to a constructor or a method is out of range; `option` names it. */
export class InvalidOptionsError extends ThreadbusError {
  readonly code = "INVALID_OPTIONS" as const;
  constructor(
    message: string,
    readonly option: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class BusClosedError extends ThreadbusError {
  readonly code = "BUS_CLOSED" as const;
  constructor(message = "bus is closed") {
    super(message);
  }
}

export class SubscriberCapError extends ThreadbusError {
  readonly code = "SUBSCRIBER_CAP" as const;
  constructor(readonly max: number) {
    super(`subscriber cap reached: at most ${max} live subscriptions`);
  }
}

export class BusFullError extends ThreadbusError {
  readonly code = "BUS_FULL" as const;
  constructor(message = "bus is full: the event queue has no room") {
    super(message);
  }
}

export class WorkerFailedError extends ThreadbusError {
  readonly code = "WORKER_FAILED" as const;
  constructor(message = "dispatcher worker failed", options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class TimeoutError extends ThreadbusError {
  readonly code = "TIMEOUT" as const;
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
}

/** An operation was cancelled through an AbortSignal; the signal's `reason` is the `cause`. */
export class AbortError extends ThreadbusError {
  readonly code = "ABORT_ERR" as const;
  constructor(message = "the operation was aborted", options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isThreadbusError(err: unknown): err is ThreadbusError {
  return err instanceof ThreadbusError;
}
