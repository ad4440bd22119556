import type { ClientInspection, SubscriptionInspection } from "@threadbus/core";
import type { ClientConfig } from "./client.js";
import {
  CLIENT_COUNTERS,
  DISPATCHER_COUNTERS,
  kClientRefused,
  kClientSent,
  kMaxClients,
  kNextClient,
} from "./constants.js";

/**
 * The threads (clients) of a WorkerBus for inspect(): every client number handed out so far (0 is
 * the thread that started the bus), with the sends its own counters in shared memory hold and the
 * live subscriptions the dispatcher lists for it. A thread that detached keeps its row: its
 * counters are history, and it has no subscriptions left.
 */
export function clientInspections(
  config: ClientConfig,
  header: Int32Array,
  subscriptions: readonly SubscriptionInspection[],
): ClientInspection[] {
  const maxClients = Atomics.load(header, kMaxClients);
  const last = Math.min(Atomics.load(header, kNextClient), maxClients - 1);
  const counters = new Float64Array(
    config.buffer,
    config.countersOffset,
    DISPATCHER_COUNTERS + maxClients * CLIENT_COUNTERS,
  );
  const perClient = new Map<number, number>();
  for (const s of subscriptions) perClient.set(s.client, (perClient.get(s.client) ?? 0) + 1);
  const clients: ClientInspection[] = [];
  for (let client = 0; client <= last; client++) {
    const base = DISPATCHER_COUNTERS + client * CLIENT_COUNTERS;
    clients.push({
      client,
      subscriptions: perClient.get(client) ?? 0,
      sent: counters[base + kClientSent]!,
      refused: counters[base + kClientRefused]!,
    });
  }
  return clients;
}
