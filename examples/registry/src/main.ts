/**
 * A tiny service registry on the in-thread bus.
 * - an EventRouter runs the registry: it answers "registry register" requests with
 *   "register.accepted" or "register.rejected" (carrying an error), and logs deletes;
 * - a Subscriber keeps an audit log of every registry event;
 * - clients use an Awaiter: prepare the wait, then send the request, then wait for the answer.
 */
import { Awaiter, Bus, type BusEvent, EventRouter, Subscriber } from "@threadbus/core";

interface Registration {
  name: string;
  address: string;
}

const bus = new Bus();
const services = new Map<string, string>();
const audit: string[] = [];

const router = await EventRouter.start(bus, {
  handlers: [
    {
      pattern: () => ({ system: "registry", kind: "register" }),
      handle(event: BusEvent<Registration>) {
        const { name, address } = event.data!;
        if (services.has(name)) {
          bus.send({
            system: "registry",
            kind: "register.rejected",
            path: event.path,
            data: { error: `${name} is taken` },
          });
          return;
        }
        services.set(name, address);
        bus.send({ system: "registry", kind: "register.accepted", path: event.path, data: { name } });
      },
    },
    {
      pattern: () => ({ system: "registry", kind: "delete" }),
      handle(event) {
        services.delete(event.path);
      },
    },
  ],
});

const auditLog = await Subscriber.start(bus, "registry", "**", (event) => {
  audit.push(`${event.kind} ${event.path}`);
});

const answers = new Awaiter(bus, "registry", "register.*");

async function register(requestId: string, name: string, address: string) {
  const waiter = await answers.prepare(requestId, { timeoutMs: 2000 });
  bus.send({ system: "registry", kind: "register", path: requestId, data: { name, address } });
  const result = await waiter.wait();
  return result.accepted ? `accepted ${name}` : `rejected ${name}: ${result.error?.message}`;
}

console.log(await register("req-1", "billing", "10.0.0.7:8080"));
console.log(await register("req-2", "search", "10.0.0.9:8080"));
console.log(await register("req-3", "billing", "10.0.0.8:8080"));
bus.send({ system: "registry", kind: "delete", path: "search" });

await bus.flush();
await answers.close();
await router.stop();
await auditLog.close();
await bus.stop();

console.log(`services: ${JSON.stringify(Object.fromEntries(services))}`);
console.log(`audit log (${audit.length} events):\n  ${audit.join("\n  ")}`);
console.log("bus stats:", bus.stats());
if (services.size !== 1 || audit.length !== 7) {
  console.error("unexpected registry state");
  process.exit(1);
}
