/**
 * Atomics.waitAsync (Node 16+), typed here because TypeScript's ES2022 lib predates it.
 * Never pass a finite timeout: on Node 20 a timed waitAsync leaks memory. A pending waitAsync
 * does not keep the event loop alive; a ref'd port must.
 */
type WaitAsyncResult =
  | { async: false; value: "not-equal" | "timed-out" }
  | { async: true; value: Promise<"ok" | "timed-out"> };

const atomics = Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): WaitAsyncResult;
};

export function waitAsync(array: Int32Array, index: number, value: number): WaitAsyncResult {
  return atomics.waitAsync(array, index, value);
}
