import { createHash } from "node:crypto";
import type { BusEvent } from "@threadbus/core";
import type { EntryUpdate } from "./messages.js";

/**
 * The pool's CPU work for one "registry entry.update": a few hundred rounds of SHA-256 over the
 * entry (~0.3 ms here), standing in for validation, indexing or thumbnailing that would stall a
 * request thread's event loop.
 */
export default function checksum(event: BusEvent<EntryUpdate>): string {
  let digest = createHash("sha256")
    .update(event.path)
    .update(event.data?.body ?? "")
    .digest();
  for (let round = 0; round < 300; round++) digest = createHash("sha256").update(digest).digest();
  return digest.toString("hex").slice(0, 16);
}
