// The pool's task file: a sha256 of each accepted order, in a piscina worker off the main thread.
import { createHash } from "node:crypto";
import type { BusEvent } from "@threadbus/core";
import type { AcceptedOrder } from "./messages.js";

export default function digest(event: BusEvent<AcceptedOrder>): string {
  return createHash("sha256")
    .update(`${event.path} ${JSON.stringify(event.data)}`)
    .digest("hex");
}
