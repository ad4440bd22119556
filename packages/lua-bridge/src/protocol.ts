import type { MessagePort } from "node:worker_threads";
import type { OverflowPolicy } from "@threadbus/core";
import type { LuaMatching, LuaSandboxAllow } from "./options.js";

/** How a process ended, as the Lua scheduler reports it. */
export type ExitStatus = "ok" | "error" | "budget" | "time" | "memory";

/** What one engine thread needs to know (structured-cloneable). */
export interface EngineConfig {
  index: number;
  engines: number;
  instructionBudget: number;
  timeSliceMs: number;
  memoryLimitBytes: number;
  batchSize: number;
  relayBufferSize: number;
  queueSize: number;
  queueOverflow: OverflowPolicy;
  matching: LuaMatching;
  allow: Required<LuaSandboxAllow>;
}

/**
 * How an engine reaches the bus: a WorkerBus handle to `attach()` (the engine becomes one of the
 * bus's threads), or a MessagePort to a PortBridge that serves an in-thread Bus from the host.
 */
export type BusLink =
  | { kind: "worker"; handle: { port: MessagePort } & Record<string, unknown> }
  | { kind: "port"; port: MessagePort };

export interface EngineWorkerData {
  config: EngineConfig;
  shared: SharedArrayBuffer;
  bus: BusLink;
}

/** Host -> engine, on the worker's own port. */
export type HostMessage =
  /** args: a Lua table constructor with `n`, the arguments of a returned module's main. */
  | { type: "spawn"; pid: number; name: string; source: string; args: string }
  /** host.register(id, source): the script process.spawn(id, ...) runs. */
  | { type: "register"; id: string; source: string }
  | { type: "kill"; pid: number }
  /** process.send from a process of another engine; args is a JSON array. */
  | { type: "deliver"; pid: number; from: number; topic: string; args: string }
  | { type: "settle"; id: number }
  | { type: "close" };

export interface ProcessCounters {
  pid: number;
  /** Events routed to the process and not yet handed to Lua. */
  queued: number;
  /** Events handed to Lua and not yet received by the script. */
  buffered: number;
  subscriptions: number;
  delivered: number;
  dropped: number;
  discarded: number;
  unconvertible: number;
}

/** An engine's counters: totals cover its gone processes too. */
export interface EngineCounters {
  routed: number;
  delivered: number;
  dropped: number;
  discarded: number;
  unconvertible: number;
  /** process.send messages from other engines whose target had ended. */
  messagesLost: number;
  memoryBytes: number;
}

/** Engine -> host: each post carries an array of these, in order. */
export type EngineMessage =
  /** `tid`: the OS id of the engine's thread (the watchdog reads its CPU time), if known. */
  | { type: "ready"; tid: number | null }
  | { type: "spawned"; pid: number; name: string; parent: number }
  | { type: "exit"; pid: number; status: ExitStatus; message: string; payload: string }
  | { type: "print"; pid: number; line: string }
  /** process.send to a process the engine does not run (args: a JSON array). */
  | { type: "post"; from: number; pid: number; topic: string; args: string }
  /** process.terminate from Lua: the host kills it as host.kill does. */
  | { type: "terminate"; pid: number }
  | { type: "log"; level: "warn" | "error"; message: string }
  | { type: "stats"; totals: EngineCounters; processes?: ProcessCounters[] }
  | { type: "settled"; id: number; activity: number }
  | { type: "closed" };
