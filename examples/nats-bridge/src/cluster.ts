import { Bus, type BusEvent } from "@threadbus/core";
import { NatsBridge } from "@threadbus/nats";
import { freePort, type OwnServer, startOwnServer } from "./nats_server.js";

// The scale-out story: three nats-server nodes on loopback, routed to each other; a bridge on
// node 1 exports a stream, a bridge on node 2 imports it (and answers on a second stream). Mid-
// stream node 1 is killed: the exporter fails over to another node, and the counts still add
// up: received + dropped + lost == sent, within a heartbeat or two of the last event.

const NODES = 3;
const HEARTBEAT_MS = 250;

/** Three nodes, each with its own client, route and monitoring port, routes to the two others. */
async function startCluster(): Promise<OwnServer[]> {
  const ports = () => Promise.all(Array.from({ length: NODES }, () => freePort()));
  const [clients, routes, monitors] = [await ports(), await ports(), await ports()];
  const route = (port: number) => `nats://127.0.0.1:${port}`;
  const nodes = await Promise.all(
    clients.map((port, i) =>
      startOwnServer(
        [
          ...["-n", `node${i + 1}`, "--cluster_name", "threadbus-example"],
          ...["--cluster", route(routes[i]!)],
          ...[
            "--routes",
            routes
              .filter((_, j) => j !== i)
              .map(route)
              .join(","),
          ],
          ...["-m", String(monitors[i])],
        ],
        port,
      ),
    ),
  );
  // Ready when every node reports a route to each other node (its /routez monitoring page).
  const deadline = Date.now() + 20_000;
  for (const port of monitors) {
    for (;;) {
      const routez = await fetch(`http://127.0.0.1:${port}/routez`)
        .then((r) => r.json() as Promise<{ num_routes: number }>)
        .catch(() => ({ num_routes: 0 }));
      if (routez.num_routes >= NODES - 1) break;
      if (Date.now() > deadline) throw new Error("the cluster's routes did not come up in 20 s");
      await sleep(50);
    }
  }
  return nodes;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `check` holds, polling every 50 ms, or rejects after `ms`. */
async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function main(): Promise<void> {
  const nodes = await startCluster();
  const urls = nodes.map((node) => node.url);
  console.log(`cluster: ${urls.join(", ")} (pids ${nodes.map((n) => n.pid).join(", ")})`);
  const busA = new Bus();
  const busB = new Bus();
  // noRandomize: each bridge starts on the first server of its list and fails over in order.
  const connection = { noRandomize: true, reconnectTimeWait: 200 };
  const a = await NatsBridge.start({
    bus: busA,
    servers: urls,
    prefix: "cluster",
    export: ["orders"],
    import: ["receipts"],
    heartbeatMs: HEARTBEAT_MS,
    connection,
  });
  const b = await NatsBridge.start({
    bus: busB,
    servers: [urls[1]!, urls[2]!, urls[0]!],
    prefix: "cluster",
    export: ["receipts"],
    import: ["orders"],
    heartbeatMs: HEARTBEAT_MS,
    connection,
  });
  try {
    let received = 0;
    let probes = 0;
    let receipts = 0;
    let receiptsSent = 0;
    const orders = await busB.subscribe("orders", "", { bufferSize: 1 << 16 });
    const receiptSub = await busA.subscribe("receipts", "", { bufferSize: 1 << 16 });
    void (async () => {
      for await (const event of orders) {
        if (event.kind === "probe") {
          probes++;
          continue;
        }
        // B answers every 100th order with a receipt that crosses back to A.
        if (++received % 100 === 0) {
          receiptsSent++;
          busB.send({ system: "receipts", kind: "batch", path: `receipt/${receiptsSent}` });
        }
      }
    })();
    void (async () => {
      for await (const _receipt of receiptSub) receipts++;
    })();

    // B's subscriptions take a moment to reach node 1: probe (a stream of its own, kind "probe")
    // until one crosses, so no order is sent into a node that does not know B yet.
    await until("a probe to cross", 20_000, () => {
      if (probes === 0) busA.send({ system: "orders", kind: "probe", path: "" });
      return probes > 0;
    });
    let sent = 0;
    const order = (): BusEvent => ({
      system: "orders",
      kind: "created",
      path: `order/${++sent}`,
      data: { sent },
    });
    const stopAt = Date.now() + 20_000;
    let streaming = true;
    const stream = (async () => {
      while (streaming && Date.now() < stopAt) {
        for (let i = 0; i < 100; i++) busA.send(order());
        await a.flush();
        await sleep(2);
      }
    })();
    await until("5,000 orders at B", 20_000, () => received >= 5000);
    console.log(`killing node 1 (pid ${nodes[0]!.pid}) mid-stream, ${sent} orders sent so far`);
    await nodes[0]!.kill();
    await until("A to fail over", 20_000, () => a.stats().reconnects >= 1);
    const failover = sent;
    await until("5,000 orders through the other nodes", 20_000, () => received >= failover + 5000 - 1000);
    streaming = false;
    await stream;
    await a.flush();
    await b.flush();
    const balanced = () =>
      received + a.stats().dropped + b.stats().lost === sent &&
      receipts + b.stats().dropped + a.stats().lost === receiptsSent;
    // Losses at the very end of a stream show up with the next heartbeat.
    await until("the counts to balance", 10 * HEARTBEAT_MS + 10_000, balanced).catch(() => {});
    const [sa, sb] = [a.stats(), b.stats()];
    console.log(
      `orders   A -> B: sent ${sent}, received ${received}, dropped ${sa.dropped}, lost ${sb.lost}`,
    );
    console.log(
      `receipts B -> A: sent ${receiptsSent}, received ${receipts}, dropped ${sb.dropped}, lost ${sa.lost}`,
    );
    console.log(
      `A: ${sa.exported} events (probes included) in ${sa.messages} NATS messages, ${sa.disconnects} disconnect, ${sa.reconnects} reconnect`,
    );
    const ok = balanced();
    console.log(`received + dropped + lost == sent, both ways: ${ok ? "yes" : "NO"}`);
    if (!ok) process.exitCode = 1;
  } finally {
    await a.stop();
    await b.stop();
    await busA.stop();
    await busB.stop();
    await Promise.all(nodes.map((node) => node.stop()));
  }
}

const watchdog = setTimeout(() => {
  console.error("cluster example timed out after 90 s");
  process.exit(1);
}, 90_000);
watchdog.unref();
await main();
