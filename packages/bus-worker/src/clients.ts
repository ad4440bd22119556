import type { MessagePort } from "node:worker_threads";
import { freeClientSlots } from "./abort_slots.js";
import {
  CLIENT_FREE,
  clientCounterBase,
  kClientPublished,
  kClientRefused,
  kClientSent,
  kLiveClients,
  kReleasedClients,
  kRetiredPublished,
  kRetiredRefused,
  kRetiredSent,
  type SharedViews,
} from "./constants.js";
import type { ClientMessage, DispatcherMessage } from "./protocol.js";

/** One thread using the bus, as the dispatcher tracks it. */
interface ClientEntry {
  readonly client: number;
  readonly port: MessagePort;
  /** False once its thread died (its control port closed without a detach). */
  alive: boolean;
}

/**
 * The dispatcher's registry of client threads and their slots. A slot is given back once its
 * thread detached or died *and* every record it published was read (records carry the client's
 * number, for replies and counters): until then the slot cannot be handed out again. A dead
 * thread's counters are retired into totals so stats() never goes backwards, and the abort slots
 * its torn sends still hold are freed.
 */
export class ClientRegistry {
  readonly #views: SharedViews;
  readonly #clients = new Map<number, ClientEntry>();
  /** Slots waiting for the ring to be read past the last record of their dead thread. */
  readonly #releasing: Array<{ client: number; until: number }> = [];
  readonly #onDeath: (client: number) => void;
  readonly #dead = new Set<number>();
  /** Per client slot: sends and records the dispatcher read from it, since the slot was last given out. */
  readonly #sendsRead: Float64Array;
  readonly #recordsRead: Float64Array;

  constructor(views: SharedViews, onDeath: (client: number) => void) {
    this.#views = views;
    this.#onDeath = onDeath;
    this.#sendsRead = new Float64Array(views.maxClients);
    this.#recordsRead = new Float64Array(views.maxClients);
  }

  /** The dispatcher read a record of `client` (a send if `send`). */
  read(client: number, send: boolean): void {
    this.#recordsRead[client]!++;
    if (send) this.#sendsRead[client]!++;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Registers a client's control port; `consumedBytes()` is read when the thread turns out dead. */
  add(
    client: number,
    port: MessagePort,
    onMessage: (message: ClientMessage) => void,
    consumed: () => number,
  ): void {
    const entry: ClientEntry = { client, port, alive: true };
    this.#clients.set(client, entry);
    this.#views.counters[kLiveClients]!++;
    port.on("message", onMessage);
    port.once("close", () => {
      if (this.#clients.get(client) !== entry) return;
      // No detach came first: the thread died (terminated, crashed, out of memory).
      entry.alive = false;
      this.#dead.add(client);
      this.#clients.delete(client);
      this.#releasing.push({ client, until: consumed() });
      this.#onDeath(client);
    });
  }

  /** True if the client is attached (registered and neither detached nor dead). */
  has(client: number): boolean {
    return this.#clients.has(client);
  }

  /** True once the client's thread is known to have died (and its slot is not given back yet). */
  isDead(client: number): boolean {
    return this.#dead.has(client);
  }

  /** The control ports of the clients attached now. */
  *ports(): IterableIterator<MessagePort> {
    for (const entry of this.#clients.values()) yield entry.port;
  }

  post(client: number, message: DispatcherMessage): void {
    this.#clients.get(client)?.port.postMessage(message);
  }

  /** A client detached (its detach record was read: nothing of it is left in the ring). */
  detach(client: number): void {
    const entry = this.#clients.get(client);
    if (entry === undefined) return;
    this.#clients.delete(client);
    entry.port.close();
    this.#release(client);
  }

  /** Gives back the slots of dead threads whose records have all been read. */
  releaseDead(consumedBytes: number, ringEmpty: boolean): void {
    const releasing = this.#releasing;
    for (let i = releasing.length - 1; i >= 0; i--) {
      const { client, until } = releasing[i]!;
      if (consumedBytes >= until || ringEmpty) {
        releasing.splice(i, 1);
        this.#dead.delete(client);
        this.#release(client);
      }
    }
  }

  /** Tells every client the dispatcher is finishing, and closes their ports. */
  finish(): void {
    const finished: DispatcherMessage = { type: "finished" };
    for (const entry of this.#clients.values()) {
      entry.port.postMessage(finished);
      entry.port.close();
    }
    this.#clients.clear();
    this.#views.counters[kLiveClients] = 0;
  }

  /**
   * Gives a slot back. The totals keep what the dispatcher itself read of the thread (its sends
   * and records), not the thread's own counters: a thread terminated between counting a send and
   * publishing it counted one the ring never got (its record is torn), and only the reader knows.
   */
  #release(client: number): void {
    const { counters, clients, header } = this.#views;
    const base = clientCounterBase(client);
    counters[kRetiredSent]! += this.#sendsRead[client]!;
    counters[kRetiredRefused]! += counters[base + kClientRefused]!;
    counters[kRetiredPublished]! += this.#recordsRead[client]!;
    this.#sendsRead[client] = 0;
    this.#recordsRead[client] = 0;
    counters[base + kClientSent] = 0;
    counters[base + kClientRefused] = 0;
    counters[base + kClientPublished] = 0;
    freeClientSlots(header, client);
    counters[kReleasedClients]!++;
    counters[kLiveClients]!--;
    if (client !== 0) Atomics.store(clients, client, CLIENT_FREE);
  }
}
