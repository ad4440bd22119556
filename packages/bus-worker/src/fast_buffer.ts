/**
 * Buffer#utf8Write / #utf8Slice: the native methods behind Buffer#write and #toString, without
 * their argument normalisation. Measured on Node 20: Buffer#toString("utf8", a, b) ~100 ns vs
 * utf8Slice ~65 ns for a 14-byte string; Buffer#write of a 64-char string ~130-260 ns in the send
 * path vs utf8Write ~60 ns. Both exist on every Node Buffer; the fallbacks keep us honest if not.
 */
interface NativeUtf8 {
  utf8Write?(value: string, offset: number, length: number): number;
  latin1Write?(value: string, offset: number, length: number): number;
  utf8Slice?(start: number, end: number): string;
  latin1Slice?(start: number, end: number): string;
}

const proto = Buffer.prototype as unknown as NativeUtf8;
const hasWrite = typeof proto.utf8Write === "function";
const hasSlice = typeof proto.utf8Slice === "function";
const hasLatin1 = typeof proto.latin1Write === "function";
const hasLatin1Slice = typeof proto.latin1Slice === "function";

export function utf8Write(target: Buffer, value: string, offset: number, length: number): number {
  return hasWrite
    ? (target as unknown as Required<NativeUtf8>).utf8Write(value, offset, length)
    : target.write(value, offset, length);
}

export function utf8Slice(source: Buffer, start: number, end: number): string {
  return hasSlice
    ? (source as unknown as Required<NativeUtf8>).utf8Slice(start, end)
    : source.toString("utf8", start, end);
}

/** Buffer#latin1Write: for ASCII the same bytes as UTF-8, ~40% cheaper a call into shared memory. */
export function latin1Write(target: Buffer, value: string, offset: number, length: number): number {
  return hasLatin1
    ? (target as unknown as Required<NativeUtf8>).latin1Write(value, offset, length)
    : target.write(value, offset, length, "latin1");
}

/**
 * Buffer#latin1Slice: for bytes known to be ASCII the same string as UTF-8, ~15-20% cheaper a
 * call (Node 20, 2 vCPU: 93 vs 110 ns for 36 bytes, 197 vs 249 ns for 1,000).
 */
export function latin1Slice(source: Buffer, start: number, end: number): string {
  return hasLatin1Slice
    ? (source as unknown as Required<NativeUtf8>).latin1Slice(start, end)
    : source.toString("latin1", start, end);
}

/**
 * Strings up to this long are scanned (or written) in JS: a charCodeAt loop costs ~3 ns a
 * character here (~110 ns for 36), a native call ~60-90 ns whatever the length up to ~1,000.
 */
export const SCAN_LIMIT = 16;

/** True if every unit of `value` is ASCII (worth a scan only up to SCAN_LIMIT units). */
export function isAscii(value: string): boolean {
  const length = value.length;
  for (let i = 0; i < length; i++) if (value.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * UTF-8 byte length: a loop answers for short ASCII strings (the usual system/kind/path) without
 * a native call; longer strings ask Buffer.byteLength (~60 ns for 36 characters, where the loop
 * costs ~3 ns a character).
 */
export function utf8Length(value: string): number {
  const length = value.length;
  if (length > SCAN_LIMIT) return Buffer.byteLength(value);
  for (let i = 0; i < length; i++) if (value.charCodeAt(i) > 0x7f) return Buffer.byteLength(value);
  return length;
}
