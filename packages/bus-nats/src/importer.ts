import type { BusEvent, CatalogueEntry, EventBus, EventCatalogue, Logger } from "@threadbus/core";
import { decodeMessage } from "./envelope.js";
import { type CompiledFilter, matchesAny } from "./options.js";
import { SequenceTracker } from "./sequence_tracker.js";
import { subjectFor } from "./subject.js";

export interface ImporterOptions {
  readonly bus: EventBus;
  /** Imported events are parsed against it before they are sent; null: the bus's own check only. */
  readonly events: EventCatalogue | null;
  readonly prefix: string;
  /** This bridge's origin: messages carrying it are its own, never imported. */
  readonly origin: string;
  readonly filters: readonly CompiledFilter[];
  readonly maxTrackedSubjects: number;
  readonly sequenceWindow: number;
  readonly logger: Logger;
  /** Events sent on the local bus are added here when the bridge also exports (loop prevention). */
  readonly imported: WeakSet<object> | null;
}

export interface ImportCounters {
  /** Remote events sent on the local bus. */
  imported: number;
  /** Remote events whose system/kind matched an import subject but not an import pattern. */
  filtered: number;
  /** Imports the local bus refused (closed or full). */
  refused: number;
  /**
   * Imports whose path or data did not fit the catalogue (the bridge's `events`, or the bus's own
   * check at send), skipped and logged.
   */
  invalid: number;
  /** Wire messages that failed to decode or validate, skipped. */
  badMessages: number;
  /** Own events seen on import and skipped (loop prevention). */
  echoes: number;
}

/** Bad messages logged one by one before the log thins out to every 1000th. */
const BAD_MESSAGE_LOG_LIMIT = 10;

/**
 * The import side of a bridge: decodes each wire message once (header validated once, however
 * many events it carries), checks it against its subject, its sequence numbers and the import
 * patterns, and sends its events on the local bus. Never throws: a bad message is counted.
 */
export class Importer {
  readonly counters: ImportCounters = {
    imported: 0,
    filtered: 0,
    refused: 0,
    invalid: 0,
    badMessages: 0,
    echoes: 0,
  };
  readonly tracker: SequenceTracker;
  readonly #options: ImporterOptions;

  constructor(options: ImporterOptions) {
    this.#options = options;
    this.tracker = new SequenceTracker({
      capacity: options.maxTrackedSubjects,
      window: options.sequenceWindow,
    });
  }

  onMessage(subject: string, payload: Uint8Array): void {
    const decoded = decodeMessage(payload);
    if (!decoded.ok) {
      this.#bad(subject, decoded.reason);
      return;
    }
    const { origin, epoch, system, kind, last, count, events } = decoded.message;
    if (subject !== subjectFor(this.#options.prefix, system, kind)) {
      this.#bad(subject, `envelope names ${system} ${kind}, which is not this subject`);
      return;
    }
    if (origin === this.#options.origin) {
      this.counters.echoes += count;
      return;
    }
    // Numbers are per subject on the exporter, so every message of the subject is tracked,
    // heartbeats and events the import patterns then filter out included.
    const verdict = this.tracker.observe(SequenceTracker.key(subject, epoch, origin), last, count);
    if (count === 0 || verdict === "none") return;
    // The subject filter is a superset (see translateFilter): the core matcher decides.
    if (!matchesAny(this.#options.filters, system, kind)) {
      this.counters.filtered += verdict === "all" ? count : verdict.filter(Boolean).length;
      return;
    }
    const { bus, imported, events: catalogue } = this.#options;
    const counters = this.counters;
    // One (system, kind) per message: its catalogue entry is looked up once for all its events.
    const entry = catalogue?.entry(system, kind);
    for (let i = 0; i < count; i++) {
      if (verdict !== "all" && !verdict[i]) continue;
      const path = events[2 * i] as string;
      let data = events[2 * i + 1];
      if (entry !== undefined) {
        const checked = checkImport(entry, path, data);
        if (typeof checked === "string") {
          this.#invalid(subject, checked);
          continue;
        }
        data = checked.data;
      }
      const event: BusEvent = data === undefined ? { system, kind, path } : { system, kind, path, data };
      imported?.add(event);
      let accepted: boolean;
      try {
        accepted = bus.send(event);
      } catch (error) {
        // A catalogued bus refuses data that does not fit with INVALID_EVENT: not a full bus.
        if ((error as { code?: unknown }).code === "INVALID_EVENT") {
          this.#invalid(subject, (error as Error).message);
          continue;
        }
        accepted = false;
      }
      if (accepted) counters.imported++;
      else counters.refused++;
    }
  }

  #invalid(subject: string, reason: string): void {
    const count = ++this.counters.invalid;
    if (count <= BAD_MESSAGE_LOG_LIMIT || count % 1000 === 0) {
      this.#options.logger.warn(
        `@threadbus/nats: skipped an imported event on '${subject}' that does not fit the catalogue: ${reason} (${count} so far)`,
      );
    }
  }

  #bad(subject: string, reason: string): void {
    const count = ++this.counters.badMessages;
    if (count <= BAD_MESSAGE_LOG_LIMIT || count % 1000 === 0) {
      this.#options.logger.warn(
        `@threadbus/nats: skipped a bad message on '${subject}': ${reason} (${count} bad so far)`,
      );
    }
  }
}

/**
 * An imported event's path and data parsed with the catalogue entry's zod schemas (refinements
 * included, as `validate: "full"`): the data to send (zod's output), or why it does not fit.
 */
function checkImport(entry: CatalogueEntry, path: string, data: unknown): { data: unknown } | string {
  if (entry.path !== undefined) {
    const parsed = entry.path.safeParse(path);
    if (!parsed.success) return `path: ${parsed.error.issues[0]?.message ?? "does not fit"}`;
  }
  if (entry.data === undefined) {
    return data === undefined ? { data } : `data: ${entry.system} ${entry.kind} carries no data`;
  }
  const parsed = entry.data.safeParse(data);
  if (parsed.success) return { data: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "data" : `data.${issue.path.join(".")}`;
  return `${where}: ${issue?.message ?? "does not fit"}`;
}
