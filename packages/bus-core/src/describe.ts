/**
 * A short, safe text for a value that failed validation, for error messages and error fields:
 * never throws (String() throws on a Symbol, an object without a prototype, or a hostile
 * toString) and never copies a huge string whole.
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return value.length <= 64 ? value : `${value.slice(0, 64)}...`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
