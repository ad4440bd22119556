import type { Server } from "node:http";
import type { ResolvedMonitorOptions } from "./options.js";

/** The connections of one monitor's server. */
export interface ConnectionCounters {
  /** Open now. */
  open: number;
  /** Closed as soon as they were accepted, because `maxConnections` were open. */
  refused: number;
  /** Closed after `idleTimeoutMs` without traffic. */
  idleClosed: number;
}

/** Node's default; a monitor with a shorter idle timeout closes idle keep-alive connections sooner. */
const KEEP_ALIVE_MS = 5000;

/**
 * Bounds the server's connections: `maxConnections` at once, counted by the server when it
 * accepts one (before a byte is read, so half-sent requests hold no more than their share), a
 * deadline for the request head, and an idle timeout. Before this, 2,000 half-sent connections
 * were all accepted and held.
 */
export function limitConnections(
  server: Server,
  options: Pick<ResolvedMonitorOptions, "maxConnections" | "headersTimeoutMs" | "idleTimeoutMs">,
): ConnectionCounters {
  const counters: ConnectionCounters = { open: 0, refused: 0, idleClosed: 0 };
  server.maxConnections = options.maxConnections;
  // A GET has no body: the whole request is its head, so both deadlines are the same.
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = options.headersTimeoutMs;
  server.keepAliveTimeout = Math.min(KEEP_ALIVE_MS, options.idleTimeoutMs);
  server.timeout = options.idleTimeoutMs;
  server.on("drop", () => {
    counters.refused++;
  });
  server.on("connection", (socket) => {
    counters.open++;
    socket.once("close", () => {
      counters.open--;
    });
  });
  // A listener replaces Node's default (destroy the socket), so it must destroy it too.
  server.on("timeout", (socket) => {
    counters.idleClosed++;
    socket.destroy();
  });
  return counters;
}

/**
 * How often the server checks the request deadlines (Node's default is 30 s, which would let a
 * half-sent request hold its connection three times longer than the 10 s default deadline).
 */
export function deadlineCheckInterval(headersTimeoutMs: number): number {
  return Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 4)));
}
