import { defineEvents } from "@threadbus/core";
import { z } from "zod";

/**
 * The catalogue of the catalogued subjects (d, j): the payload of payload.ts and scale_event.ts
 * as zod schemas, so the bus encodes it with a compiled codec instead of msgpackr. Every thread
 * of a catalogued subject imports this module.
 */
export const benchEvents = defineEvents({
  orders: { created: z.object({ seq: z.int(), body: z.string() }) },
});

/** j-scale's event (scale_event.ts): publisher index, its sequence number and the body. */
export const scaleEvents = defineEvents({
  orders: { created: z.object({ p: z.int(), seq: z.int(), body: z.string() }) },
});
