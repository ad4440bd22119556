import type { ClientInspection, SubscriptionInspection } from "@threadbus/core";
import {
  CLIENT_FREE,
  clientCounterBase,
  kClientRefused,
  kClientSent,
  type SharedViews,
} from "./constants.js";

/**
 * The threads (clients) of a WorkerBus for inspect(): every client slot in use now (0 is the
 * thread that started the bus; a slot is in use from bus.handle() until its thread detached or
 * died), with the sends its own counters in shared memory hold and the live subscriptions the
 * dispatcher lists for it. Threads that are gone are summed into stats(), not listed here.
 */
export function clientInspections(
  shared: SharedViews,
  subscriptions: readonly SubscriptionInspection[],
): ClientInspection[] {
  const perClient = new Map<number, number>();
  for (const s of subscriptions) perClient.set(s.client, (perClient.get(s.client) ?? 0) + 1);
  const clients: ClientInspection[] = [];
  for (let client = 0; client < shared.maxClients; client++) {
    if (client > 0 && Atomics.load(shared.clients, client) === CLIENT_FREE) continue;
    const base = clientCounterBase(client);
    clients.push({
      client,
      subscriptions: perClient.get(client) ?? 0,
      sent: shared.counters[base + kClientSent]!,
      refused: shared.counters[base + kClientRefused]!,
    });
  }
  return clients;
}
