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

/** An event whose data is a string of `text` (the string fast path of a codec). */
export function textEvent(text: string): BusEvent<string> {
  return { system: "orders", kind: "created", path: "order/1", data: text };
}

/**
 * What a consumer that reads its events does with each one: touches one field of the data, so a
 * lazily decoded event must decode it. The running sum keeps the reads from being optimised away.
 */
export class DataReader {
  sum = 0;
  readonly readObject = (data: unknown): void => {
    this.sum += (data as Payload).seq;
  };
  readonly readText = (data: unknown): void => {
    this.sum += (data as string).length;
  };
}
