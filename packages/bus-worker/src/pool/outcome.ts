import type { BusEvent } from "@threadbus/core";
import { Fifo } from "./fifo.js";

/** What became of one event's task: its result, or the error (task failure, timeout or abort). */
export type PoolOutcome<D = unknown, R = unknown> =
  | { readonly event: BusEvent<D>; readonly result: R; readonly error?: undefined }
  | { readonly event: BusEvent<D>; readonly error: unknown; readonly result?: undefined };

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The outcomes waiting for a `for await` reader. It is bounded by the subscription, which stops
 * handing tasks to the pool while `length` unread outcomes fill its buffer, so an idle reader
 * back-pressures the pool instead of growing this queue.
 */
export class OutcomeQueue<D, R> implements AsyncIterable<PoolOutcome<D, R>> {
  readonly #items = new Fifo<PoolOutcome<D, R>>();
  #ended = false;
  #iterated = false;
  #reader: ((result: IteratorResult<PoolOutcome<D, R>>) => void) | null = null;
  readonly #onTaken: () => void;
  readonly #onReturn: () => Promise<void>;

  /** `onTaken` runs after the reader took an outcome; `onReturn` when it breaks out of its loop. */
  constructor(onTaken: () => void, onReturn: () => Promise<void>) {
    this.#onTaken = onTaken;
    this.#onReturn = onReturn;
  }

  get length(): number {
    return this.#items.length;
  }

  push(outcome: PoolOutcome<D, R>): void {
    if (this.#reader !== null) {
      const reader = this.#reader;
      this.#reader = null;
      reader({ done: false, value: outcome });
      queueMicrotask(this.#onTaken);
      return;
    }
    this.#items.push(outcome);
  }

  /** No more outcomes: the reader gets what is queued, then the end. */
  end(): void {
    this.#ended = true;
    if (this.#reader !== null && this.length === 0) {
      const reader = this.#reader;
      this.#reader = null;
      reader(DONE);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<PoolOutcome<D, R>> {
    if (this.#iterated) throw new TypeError("a pool subscription's outcomes can be iterated only once");
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: async () => {
        await this.#onReturn();
        return DONE;
      },
    };
  }

  #next(): Promise<IteratorResult<PoolOutcome<D, R>>> {
    if (this.length > 0) {
      const outcome = this.#items.shift()!;
      queueMicrotask(this.#onTaken);
      return Promise.resolve({ done: false, value: outcome });
    }
    if (this.#ended) return Promise.resolve(DONE);
    if (this.#reader !== null)
      return Promise.reject(new TypeError("next() called while a previous next() is pending"));
    return new Promise((resolve) => {
      this.#reader = resolve;
    });
  }
}
