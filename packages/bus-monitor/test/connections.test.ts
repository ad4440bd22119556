import { connect, type Socket } from "node:net";
import { Bus } from "@threadbus/core";
import { afterEach, describe, expect, it } from "vitest";
import { getJson, quiet, until, useMonitors } from "./support.js";

/** A raw connection to the monitor; `closed` settles when the server closes it, with what it sent. */
function rawConnection(url: string, sockets: Socket[]): { socket: Socket; closed: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  sockets.push(socket);
  let received = "";
  socket.on("data", (chunk) => {
    received += chunk.toString("latin1");
  });
  socket.on("error", () => undefined);
  return { socket, closed: new Promise((resolve) => socket.once("close", () => resolve(received))) };
}

/** The start of a request whose head never ends. */
const HALF_SENT = (url: string) => `GET /varz HTTP/1.1\r\nHost: ${new URL(url).host}\r\n`;

describe("monitor connections", () => {
  const use = useMonitors();
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  it("holds at most maxConnections, closing and counting each one more as it is accepted", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus, { maxConnections: 8 });
    const connections = Array.from({ length: 200 }, () => rawConnection(monitor.url, sockets));
    for (const { socket } of connections) socket.write(HALF_SENT(monitor.url));
    await until(() => monitor.stats().connections.refused === 192);
    expect(monitor.stats().connections.open).toBe(8);
    // The refused ones were closed by the server, not left hanging; the 8 held ones stay open.
    const settled = await Promise.all(
      connections.map(({ closed }) =>
        Promise.race([closed.then(() => "closed"), new Promise((r) => setTimeout(() => r("open"), 1000))]),
      ),
    );
    expect(settled.filter((s) => s === "closed").length).toBe(192);
    for (const socket of sockets.splice(0)) socket.destroy();
    await until(() => monitor.stats().connections.open === 0);
    expect((await getJson(`${monitor.url}varz`)).status).toBe(200);
  });

  it("answers a request head that is not complete within headersTimeoutMs with 408, and closes it", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus, { headersTimeoutMs: 300 });
    const started = Date.now();
    const { socket, closed } = rawConnection(monitor.url, sockets);
    socket.write(HALF_SENT(monitor.url));
    expect(await closed).toMatch(/^HTTP\/1\.1 408 /);
    // The deadline is checked every 75 ms here (a quarter of it): well inside 5 s on a loaded machine.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(5000);
    await until(() => monitor.stats().connections.open === 0);
  });

  it("closes a connection that sends nothing for idleTimeoutMs, and counts it", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus, { idleTimeoutMs: 300 });
    const started = Date.now();
    const { closed } = rawConnection(monitor.url, sockets);
    expect(await closed).toBe("");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await until(() => monitor.stats().connections.open === 0);
    expect(monitor.stats().connections.idleClosed).toBe(1);
  });

  it("keeps a streaming tail past idleTimeoutMs: its stats each second are traffic", async () => {
    const bus = await use.bus(async () => new Bus({ logger: quiet }));
    const monitor = await use.monitor(bus, { idleTimeoutMs: 1500 });
    const response = await fetch(`${monitor.url}tail`);
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(monitor.stats()).toMatchObject({ tails: 1, connections: { idleClosed: 0 } });
    await response.body?.cancel();
  });
});
