import { type TransferListItem, Worker } from "node:worker_threads";
import type { WorkerBus } from "@threadbus/worker";
import { type EntityEnvelope, type EntityReply, type EntityRequest, entityOf } from "./entity_event.js";

/** A run that takes longer than this failed: the bench reports it instead of hanging. */
const REQUEST_TIMEOUT_MS = 180_000;

/**
 * The subscriber and publisher threads of scenario m-entities (workers/entity_thread.ts), and the
 * check that every event reached its entity exactly once: each subscriber thread owns a range of
 * entities and answers with how many events each received, which must equal how many were sent
 * to it (the entity of event seq is entityOf(seq), on every thread).
 */
export class EntityThreads {
  readonly subscribers: Worker[];
  readonly publishers: Worker[];
  readonly perThread: number;
  readonly entities: number;
  /** Events sent to each entity over every run so far. */
  readonly #expected: Int32Array;
  #sent = 0;

  private constructor(subscribers: Worker[], publishers: Worker[], perThread: number) {
    this.subscribers = subscribers;
    this.publishers = publishers;
    this.perThread = perThread;
    this.entities = perThread * subscribers.length;
    this.#expected = new Int32Array(this.entities);
  }

  static async start(subscribers: number, publishers: number, perThread: number): Promise<EntityThreads> {
    const spawn = () => new Worker(new URL("../workers/entity_thread.js", import.meta.url));
    const threads = new EntityThreads(
      Array.from({ length: subscribers }, spawn),
      Array.from({ length: publishers }, spawn),
      perThread,
    );
    try {
      await Promise.all(
        [...threads.subscribers, ...threads.publishers].map(
          (worker) =>
            new Promise<void>((resolve, reject) => {
              worker.once("online", resolve);
              worker.once("error", reject);
            }),
        ),
      );
    } catch (error) {
      await threads.close();
      throw error;
    }
    return threads;
  }

  /** Every thread attach()es to `bus`. */
  async attach(bus: WorkerBus): Promise<void> {
    await Promise.all(
      [...this.subscribers, ...this.publishers].map((worker) => {
        const handle = bus.handle();
        return request(worker, { type: "bus-attach", handle }, [handle.port]);
      }),
    );
  }

  /** Subscriber threads subscribe their entities, all threads at once; resolves once all are live. */
  async subscribe(): Promise<void> {
    await Promise.all(
      this.subscribers.map((worker, s) =>
        request(worker, { type: "bus-subscribe", first: s * this.perThread, count: this.perThread }),
      ),
    );
  }

  async broadcast(name: string): Promise<void> {
    const subscribers = this.subscribers.length;
    await Promise.all([
      ...this.subscribers.map((worker, index) =>
        request(worker, {
          type: "broadcast-subscribe",
          name,
          first: index * this.perThread,
          count: this.perThread,
          subscribers,
          index,
        }),
      ),
      ...this.publishers.map((worker) => request(worker, { type: "broadcast-attach", name, subscribers })),
    ]);
  }

  /** Subscribe + close rates on the first subscriber thread (threadbus only). */
  async churn(count: number): Promise<{ batchedPerSecond: number; sequentialPerSecond: number }> {
    const reply = await request(this.subscribers[0]!, { type: "churn", count });
    return { batchedPerSecond: reply.batchedPerSecond!, sequentialPerSecond: reply.sequentialPerSecond! };
  }

  /**
   * Publishers send `count` events between them; resolves once every subscriber thread received
   * every event sent to its entities, and rejects if any entity got one more or fewer, or a wrong one.
   */
  async run(count: number): Promise<void> {
    const from = this.#sent;
    this.#sent += count;
    for (let seq = from; seq < from + count; seq++) this.#expected[entityOf(seq, this.entities)]!++;
    const per = Math.ceil(count / this.publishers.length);
    const totals = this.subscribers.map((_, s) => {
      let total = 0;
      for (let e = s * this.perThread; e < (s + 1) * this.perThread; e++) total += this.#expected[e]!;
      return total;
    });
    const [replies] = await Promise.all([
      Promise.all(this.subscribers.map((worker, s) => request(worker, { type: "until", total: totals[s]! }))),
      Promise.all(
        this.publishers.map((worker, p) =>
          request(worker, {
            type: "run",
            from: from + p * per,
            count: Math.max(0, Math.min(per, from + count - (from + p * per))),
            entities: this.entities,
          }),
        ),
      ),
    ]);
    replies.forEach((reply, s) => {
      if (reply.misrouted !== 0)
        throw new Error(`m-entities: thread ${s} got ${reply.misrouted} events of another entity`);
      const counts = reply.counts!;
      for (let i = 0; i < counts.length; i++) {
        const entity = s * this.perThread + i;
        if (counts[i] !== this.#expected[entity])
          throw new Error(
            `m-entities: entity ${entity} received ${counts[i]} events, ${this.#expected[entity]} were sent to it`,
          );
      }
    });
  }

  async detach(): Promise<void> {
    await Promise.all(
      [...this.subscribers, ...this.publishers].map((worker) => request(worker, { type: "detach" })),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscribers, ...this.publishers].map((worker) => worker.terminate()));
  }
}

let nextId = 0;

/** Posts one request and waits for its answer; a worker error, exit or timeout rejects. */
function request(
  worker: Worker,
  message: EntityRequest,
  transfer: TransferListItem[] = [],
): Promise<EntityReply> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const settle = (error: Error | null, reply?: EntityReply) => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      if (error) reject(error);
      else resolve(reply!);
    };
    const onMessage = (reply: EntityReply) => {
      if (reply.id !== id) return;
      settle(reply.error === undefined ? null : new Error(`m-entities worker: ${reply.error}`), reply);
    };
    const onError = (error: Error) => settle(error);
    const onExit = (code: number) => settle(new Error(`m-entities worker exited with code ${code}`));
    const timer = setTimeout(
      () =>
        settle(new Error(`m-entities worker: no answer to "${message.type}" in ${REQUEST_TIMEOUT_MS} ms`)),
      REQUEST_TIMEOUT_MS,
    );
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
    const envelope: EntityEnvelope = { id, request: message };
    worker.postMessage(envelope, transfer);
  });
}
