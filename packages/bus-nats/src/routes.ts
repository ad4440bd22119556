import { subjectFor } from "./subject.js";

/** Where one (system, kind) goes, and the per-subject sequence it numbers its events with. */
export interface Route {
  readonly subject: string;
  readonly counter: { seq: number } | null;
}

/**
 * Export side: the subject and sequence counter of each (system, kind), computed once. Two levels
 * of Map (system, then kind) avoid building a key string per event. Systems and kinds that share
 * a subject ("a.b"+"c" and "a"+"b.c") share its counter, because importers track per subject.
 * Past `capacity` routes, new ones are computed per event and numbered 0 (not tracked), so memory
 * stays bounded whatever the event stream.
 */
export class RouteTable {
  readonly #bySystem = new Map<string, Map<string, Route>>();
  readonly #counters = new Map<string, { seq: number }>();
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
    if (this.#size >= this.#capacity) return { subject, counter: null };
    let counter = this.#counters.get(subject);
    if (counter === undefined) {
      counter = { seq: 0 };
      this.#counters.set(subject, counter);
    }
    const route: Route = { subject, counter };
    if (byKind === undefined) {
      byKind = new Map();
      this.#bySystem.set(system, byKind);
    }
    byKind.set(kind, route);
    this.#size++;
    return route;
  }
}
