import type { LuaMatching } from "./options.js";

/** Narrows what the bus pattern lets through to what Wippy's rule accepts. */
export type Accepts = (system: string, kind: string) => boolean;

/** A Lua subscription's filter, as the relay's SubscriptionIndex takes it. */
export interface LuaFilter {
  /** Bus patterns (`kind` "" = every kind) that match at least what the subscription must get. */
  readonly system: string;
  readonly kind: string;
  /** null when the bus patterns are exact. */
  readonly accepts: Accepts | null;
}

interface Translated {
  readonly bus: string;
  readonly test: ((value: string) => boolean) | null;
}

/** Syntax only the bus's matcher gives a meaning to: under Wippy's rules it would be a literal. */
function busOnly(pattern: string): boolean {
  const star = pattern.indexOf("*");
  return /[()|]/.test(pattern) || (star >= 0 && star < pattern.length - 1);
}

/** Literal segments the bus compiles as themselves (no empty segment between dots). */
function plainSegments(text: string): boolean {
  return text !== "" && !text.split(".").includes("");
}

/**
 * One pattern under Wippy's rules (runtime system/eventbus/dispatcher.go, matchPattern): `*` or ""
 * matches anything, a trailing `*` makes a prefix, anything else is compared whole. It becomes
 * the tightest bus pattern that matches a superset, plus a test where the bus pattern is wider:
 * the one matcher still routes, and the test only drops what Wippy's rule would not deliver.
 */
function translate(pattern: string, what: string): Translated | string {
  if (pattern === "" || pattern === "*") return { bus: what === "kind" ? "" : "**", test: null };
  if (busOnly(pattern)) {
    return (
      `${what} ${JSON.stringify(pattern)} uses the bus's wildcard syntax (**, (a|b), or * before the end), ` +
      `which Wippy's matching reads as a literal; start the host with matching: "bus" to use it`
    );
  }
  if (pattern.endsWith("*")) {
    const prefix = pattern.slice(0, -1);
    const test = (value: string) => value.startsWith(prefix);
    // "orders.*" -> "orders.**" (which also matches "orders" itself: the test drops that).
    if (prefix.endsWith(".") && plainSegments(prefix.slice(0, -1))) return { bus: `${prefix}**`, test };
    return { bus: "**", test };
  }
  if (plainSegments(pattern)) return { bus: pattern, test: null };
  return { bus: "**", test: (value) => value === pattern };
}

/** The relay filter for events.subscribe(system, kind), or the reason it is refused. */
export function luaFilter(matching: LuaMatching, system: string, kind: string): LuaFilter | string {
  if (matching === "bus") return { system, kind, accepts: null };
  const s = translate(system, "system");
  if (typeof s === "string") return s;
  const k = translate(kind, "kind");
  if (typeof k === "string") return k;
  const bus = { system: s.bus, kind: k.bus === "**" ? "" : k.bus };
  const ts = s.test;
  const tk = k.test;
  if (ts === null && tk === null) return { ...bus, accepts: null };
  if (tk === null) return { ...bus, accepts: (system) => ts!(system) };
  if (ts === null) return { ...bus, accepts: (_system, kind) => tk(kind) };
  return { ...bus, accepts: (system, kind) => ts(system) && tk(kind) };
}
