import { z } from "zod";
import { InvalidEventError } from "./errors.js";

/**
 * An event on the bus. `system` is the component ("registry"), `kind` the type ("entry.update"),
 * `path` the entity id (may be empty), `data` any structured-cloneable value.
 */
export interface BusEvent<D = unknown> {
  system: string;
  kind: string;
  path: string;
  data?: D;
}

export const busEventSchema = z.object({
  system: z.string().min(1, "system must be a non-empty string"),
  kind: z.string().min(1, "kind must be a non-empty string"),
  path: z.string({ error: "path must be a string (may be empty)" }),
  data: z.unknown().optional(),
});

/**
 * Throws InvalidEventError naming the first bad field; returns the event unchanged.
 *
 * The typeof checks below accept exactly what `busEventSchema` accepts; they exist because a zod
 * parse costs ~1 µs per event on the send hot path. zod runs only when they fail, to build the error.
 */
export function assertBusEvent(value: unknown): asserts value is BusEvent {
  let result: ReturnType<typeof busEventSchema.safeParse>;
  try {
    if (
      typeof value === "object" &&
      value !== null &&
      typeof (value as BusEvent).system === "string" &&
      (value as BusEvent).system !== "" &&
      typeof (value as BusEvent).kind === "string" &&
      (value as BusEvent).kind !== "" &&
      typeof (value as BusEvent).path === "string"
    ) {
      return;
    }
    result = busEventSchema.safeParse(value);
  } catch (error) {
    // A getter or a Proxy that throws: bad input like any other, not an uncoded crash.
    throw new InvalidEventError("invalid event: event: reading it threw", "event", { cause: error });
  }
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? String(issue.path[0]) : "event";
  const message = field === "event" ? "event must be an object" : (issue?.message ?? "invalid event");
  throw new InvalidEventError(`invalid event: ${field}: ${message}`, field);
}

/** Validates and returns a typed event (convenience for callers that build events from input). */
export function parseBusEvent<D = unknown>(value: unknown): BusEvent<D> {
  assertBusEvent(value);
  return value as BusEvent<D>;
}
