import { subjectFor } from "./subject.js";

/**
 * One numbered stream of an exporter: the subject, the number of the last event sent on it, and
 * a (system, kind) that names it in heartbeats.
 */
export interface ExportStream {
  readonly subject: string;
  readonly system: string;
  readonly kind: string;
  seq: number;
}

/** Where one (system, kind) goes, and the stream that numbers its events (null: unnumbered). */
export interface Route {
  readonly subject: string;
  readonly system: string;
  readonly kind: string;
  readonly stream: ExportStream | null;
}

/**
 * Export side: the subject and stream of each (system, kind), computed once. Two levels of Map
 * (system, then kind) avoid building a key string per event. Systems and kinds that share a
 * subject ("a.b"+"c" and "a"+"b.c") share its stream, because importers track per subject.
 * Past `capacity` routes, new ones are computed per event and numbered 0 (not tracked), so memory
 * stays bounded whatever the event stream.
 */
export class RouteTable {
  readonly #bySystem = new Map<string, Map<string, Route>>();
  readonly #bySubject = new Map<string, ExportStream>();
  /** Every stream, in creation order: heartbeats walk it. */
  readonly streams: ExportStream[] = [];
  readonly #prefix: string;
  readonly #capacity: number;
  #size = 0;

  constructor(prefix: string, capacity: number) {
    this.#prefix = prefix;
    this.#capacity = capacity;
  }

  get(system: string, kind: string): Route {
    let byKind = this.#bySystem.get(system);
    const cached = byKind?.get(kind);
    if (cached !== undefined) return cached;
    const subject = subjectFor(this.#prefix, system, kind);
    if (this.#size >= this.#capacity) return { subject, system, kind, stream: null };
    let stream = this.#bySubject.get(subject);
    if (stream === undefined) {
      stream = { subject, system, kind, seq: 0 };
      this.#bySubject.set(subject, stream);
      this.streams.push(stream);
    }
    const route: Route = { subject, system, kind, stream };
    if (byKind === undefined) {
      byKind = new Map();
      this.#bySystem.set(system, byKind);
    }
    byKind.set(kind, route);
    this.#size++;
    return route;
  }
}
