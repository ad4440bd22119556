// The pool's task file: runs in a piscina worker, gets each matched event.
import { createHash } from "node:crypto";
import type { BusEvent } from "@threadbus/core";

export default function checksum(event: BusEvent<{ i: number }>): string {
  return createHash("sha256").update(`${event.path}:${event.data?.i}`).digest("hex");
}
