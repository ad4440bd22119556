import type { BusEvent } from "@threadbus/core";

/** The data every cross-thread subject carries: a sequence number and a body filling it out. */
export interface Payload {
  seq: number;
  body: string;
}

/** A payload whose JSON form is about `bytes` long ({"seq":123456,"body":"xxx…"}). */
export function makeBody(bytes: number): string {
  return "x".repeat(Math.max(0, bytes - 28));
}

export function orderEvent(seq: number, body: string): BusEvent<Payload> {
  return { system: "orders", kind: "created", path: "order/1", data: { seq, body } };
}
