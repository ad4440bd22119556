import { z } from "zod";
import type { CatalogueSpec, KindSpec, TypedCatalogue } from "./catalogue_types.js";
import { InvalidEventError, InvalidOptionsError } from "./errors.js";
import type { BusEvent } from "./event.js";
import { compileShape, describeShape, type Shape, type ShapeFault, shapeFault } from "./shape.js";

/**
 * How a catalogued bus checks what send() is given:
 * - "shape" (default): types only, by compiled checks (the worker bus's encoder makes them while
 *   it writes); zod's refinements, lengths and ranges are not applied;
 * - "full": zod's parse, refinements included; the parsed value (defaults, stripped keys) is sent;
 * - "off": nothing beyond the event's own fields.
 */
export type ValidateMode = "shape" | "full" | "off";
/** What a catalogued bus does with an event whose (system, kind) is not in the catalogue. */
export type UncataloguedPolicy = "refuse" | "allow";

/** One catalogued (system, kind). `id` is its index in the sorted catalogue: the same on every thread. */
export interface CatalogueEntry {
  readonly id: number;
  readonly system: string;
  readonly kind: string;
  readonly data: z.ZodType | undefined;
  readonly path: z.ZodType | undefined;
  /** The data's shape; undefined when the kind carries no data. */
  readonly shape: Shape | undefined;
  /** A stable text of the entry's schemas: equal digests encode alike. */
  readonly digest: string;
}

const kCatalogue = Symbol.for("threadbus.catalogue");

/**
 * A catalogue of events: system -> kind -> zod schema of `data` (or `{ data, path }`). Made by
 * defineEvents(); pass it to `new Bus({ events })`, `WorkerBus.start({ events })` and
 * `attach(handle, { events })`. Schemas are code: every thread imports the same module.
 */
export class EventCatalogue<Spec extends CatalogueSpec = CatalogueSpec> implements TypedCatalogue<Spec> {
  readonly spec: Spec;
  /** Sorted by system, then kind. */
  readonly entries: readonly CatalogueEntry[];
  readonly #bySystem = new Map<string, Map<string, CatalogueEntry>>();
  readonly [kCatalogue] = true;

  constructor(spec: Spec) {
    this.spec = spec;
    const entries: CatalogueEntry[] = [];
    for (const system of Object.keys(spec).sort()) {
      const kinds = spec[system]!;
      if (typeof kinds !== "object" || kinds === null)
        throw new InvalidOptionsError(`events.${system}: must be an object of kinds`, `events.${system}`);
      const map = new Map<string, CatalogueEntry>();
      this.#bySystem.set(system, map);
      for (const kind of Object.keys(kinds).sort()) {
        const entry = makeEntry(entries.length, system, kind, kinds[kind]!);
        entries.push(entry);
        map.set(kind, entry);
      }
    }
    this.entries = entries;
  }

  static is(value: unknown): value is EventCatalogue {
    return (
      typeof value === "object" && value !== null && (value as { [kCatalogue]?: true })[kCatalogue] === true
    );
  }

  entry(system: string, kind: string): CatalogueEntry | undefined {
    return this.#bySystem.get(system)?.get(kind);
  }

  /** One line per entry, for a handle: another thread compares them with `difference()`. */
  fingerprint(): string[] {
    return this.entries.map((entry) => `${entry.system}\u0000${entry.kind}\u0000${entry.digest}`);
  }

  /**
   * The first (system, kind) in which this catalogue and the one `fingerprint` describes differ
   * (present in one only, or with other schemas), as "system kind"; null if they are the same.
   */
  difference(fingerprint: readonly string[]): string | null {
    const mine = this.fingerprint();
    for (let i = 0; i < Math.max(mine.length, fingerprint.length); i++) {
      if (mine[i] === fingerprint[i]) continue;
      const candidates = [mine[i], fingerprint[i]].filter((line): line is string => line !== undefined);
      candidates.sort();
      const [system, kind] = candidates[0]!.split("\u0000");
      return `${system} ${kind}`;
    }
    return null;
  }
}

function isSchema(value: unknown): value is z.ZodType {
  return value instanceof z.ZodType || (typeof value === "object" && value !== null && "_zod" in value);
}

function makeEntry(id: number, system: string, kind: string, spec: KindSpec): CatalogueEntry {
  const where = `events.${system}.${kind}`;
  let data: z.ZodType | undefined;
  let path: z.ZodType | undefined;
  if (isSchema(spec)) data = spec;
  else if (typeof spec === "object" && spec !== null) {
    for (const key of Object.keys(spec))
      if (key !== "data" && key !== "path")
        throw new InvalidOptionsError(
          `${where}.${key}: unknown key (a kind takes data and path)`,
          `${where}.${key}`,
        );
    data = spec.data;
    path = spec.path;
    if (data !== undefined && !isSchema(data))
      throw new InvalidOptionsError(`${where}.data: must be a zod schema`, `${where}.data`);
    if (path !== undefined && !isSchema(path))
      throw new InvalidOptionsError(`${where}.path: must be a zod schema`, `${where}.path`);
  } else throw new InvalidOptionsError(`${where}: must be a zod schema or { data, path }`, where);
  if (system === "" || kind === "")
    throw new InvalidOptionsError(`${where}: system and kind must be non-empty`, where);
  const shape = data === undefined ? undefined : compileShape(data);
  const digest = `${shape === undefined ? "none" : describeShape(shape)};path=${path === undefined ? "any" : describeShape(compileShape(path))}`;
  return { id, system, kind, data, path, shape, digest };
}

/**
 * Defines a catalogue of events: `defineEvents({ registry: { create: z.object({ name: z.string() }) } })`.
 * A bus built with it is typed by it and checks what is sent (see ValidateMode). Throws
 * InvalidOptionsError for a spec that is not system -> kind -> schema.
 */
export function defineEvents<const Spec extends CatalogueSpec>(spec: Spec): EventCatalogue<Spec> {
  if (typeof spec !== "object" || spec === null)
    throw new InvalidOptionsError("events: must be an object: system -> kind -> zod schema", "events");
  return new EventCatalogue(spec);
}

export const catalogueSchema = z.custom<EventCatalogue>(
  (value) => EventCatalogue.is(value),
  "must be a catalogue made by defineEvents()",
);

/** `data.items.2.qty` for a fault at ["items", 2, "qty"]. */
export function faultField(root: string, fault: ShapeFault): string {
  return fault.path.length === 0 ? root : `${root}.${fault.path.join(".")}`;
}

export function faultError(root: string, fault: ShapeFault, cause?: unknown): InvalidEventError {
  const field = faultField(root, fault);
  return new InvalidEventError(
    `invalid event: ${field}: ${fault.message}`,
    field,
    cause === undefined ? undefined : { cause },
  );
}

function zodFault(error: z.ZodError): ShapeFault {
  const issue = error.issues[0];
  return {
    path: (issue?.path ?? []).map((p) => (typeof p === "number" ? p : String(p))),
    message: issue?.message ?? "invalid",
  };
}

/**
 * The publish-time check of a catalogued bus, shared by both buses. Returns the data to send: the
 * event's own, or zod's parse of it under "full". Throws InvalidEventError naming the field
 * (`data.items.2.qty`) for data that does not fit, or "kind" for an uncatalogued (system, kind)
 * under "refuse". `skipShape` leaves the "shape" check of data to an encoder that makes it anyway.
 */
export function checkCatalogued(
  entry: CatalogueEntry | undefined,
  event: BusEvent,
  mode: ValidateMode,
  uncatalogued: UncataloguedPolicy,
  skipShape = false,
): unknown {
  if (entry === undefined) {
    if (uncatalogued === "allow") return event.data;
    throw new InvalidEventError(
      `invalid event: kind: '${event.system}' '${event.kind}' is not in the bus's catalogue (its option uncatalogued is "refuse")`,
      "kind",
    );
  }
  if (mode === "off") return event.data;
  if (entry.path !== undefined) {
    const parsed = entry.path.safeParse(event.path);
    if (!parsed.success) throw faultError("path", zodFault(parsed.error));
  }
  if (entry.data === undefined) {
    if (event.data !== undefined)
      throw new InvalidEventError(
        `invalid event: data: ${entry.system} ${entry.kind} carries no data`,
        "data",
      );
    return undefined;
  }
  if (mode === "full") {
    const parsed = entry.data.safeParse(event.data);
    if (!parsed.success) throw faultError("data", zodFault(parsed.error), parsed.error);
    return parsed.data;
  }
  if (!skipShape) {
    const fault = shapeFault(entry.shape!, event.data);
    if (fault !== null) throw faultError("data", fault);
  }
  return event.data;
}

export const validateModeSchema = z.enum(["shape", "full", "off"]);
export const uncataloguedSchema = z.enum(["refuse", "allow"]);
