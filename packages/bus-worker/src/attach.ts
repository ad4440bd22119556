import { MessagePort, workerData } from "node:worker_threads";
import {
  InvalidOptionsError,
  type Logger,
  loggerSchema,
  optionsError,
  resolveStopOptions,
  type StopOptions,
} from "@threadbus/core";
import { z } from "zod";
import { BusClient } from "./client.js";
import {
  HEADER_WORDS,
  kClientsOffset,
  kMagic,
  kMaxClients,
  kVersion,
  LAYOUT_VERSION,
  MAGIC,
} from "./constants.js";
import type { WorkerBusHandle } from "./worker_bus.js";

/**
 * A WorkerBus as seen from another thread: the same publish and subscribe API, the same ring and
 * the same global order. `stop()` detaches this thread only (its subscriptions end; the bus goes
 * on, and this thread's slot is given back); the thread that started the bus stops the bus.
 */
export class AttachedBus extends BusClient {
  #stopPromise: Promise<void> | null = null;

  constructor(handle: WorkerBusHandle, logger: Logger = console) {
    super(validateHandle(handle), handle.port, logger);
  }

  /**
   * Detaches this thread: its subscriptions end after what they hold, its slot is given back, the
   * bus goes on. The detach travels through the ring, behind this thread's sends; if the ring has
   * no room for it within `timeoutMs` (default 5000), the thread leaves without it: the dispatcher
   * then sees its port close, as if the thread had died (its subscriptions count as lost).
   */
  stop(options?: StopOptions): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    let timeoutMs: number;
    try {
      ({ timeoutMs } = resolveStopOptions(options));
    } catch (error) {
      return Promise.reject(error);
    }
    this.markClosed();
    this.#stopPromise = (async () => {
      if (!(await this.detachRecord(timeoutMs).catch(() => false))) this.complete();
      await this.finished();
    })();
    return this.#stopPromise;
  }
}

/**
 * Attaches this thread to a running WorkerBus through a handle from `bus.handle()`. The one
 * documented way: the starting thread passes `{ workerData: { handle }, transferList:
 * [handle.port] }` to `new Worker`, and the worker calls `attach(workerData.handle)` (which is also
 * what `attach()` with no handle reads). Anything else is refused with InvalidOptionsError naming
 * what it got and the likely fix.
 */
export function attach(handle?: WorkerBusHandle, logger?: Logger): AttachedBus {
  if (logger !== undefined && !loggerSchema.safeParse(logger).success)
    throw new InvalidOptionsError("logger: must have warn() and error() methods", "logger");
  if (handle === undefined) {
    const fromWorkerData = (workerData as { handle?: WorkerBusHandle } | null)?.handle;
    if (fromWorkerData === undefined)
      throw new InvalidOptionsError(
        `handle: attach() got no handle, and workerData.handle holds none (workerData is ${describe(workerData)}): start this worker with new Worker(file, { workerData: { handle }, transferList: [handle.port] }), handle = bus.handle(), and call attach(workerData.handle)`,
        "handle",
      );
    handle = fromWorkerData;
  }
  return new AttachedBus(handle, logger);
}

/** The fields of a handle, to tell a handle with a bad field from something that is no handle at all. */
const HANDLE_FIELDS = ["buffer", "client", "nonce", "onFull", "maxWaitMs", "port"];

/** Short words for what attach() got instead of a handle. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== "object") return `a ${typeof value}`;
  const keys = Object.keys(value);
  return keys.length === 0 ? "an empty object" : `an object with keys ${keys.slice(0, 8).join(", ")}`;
}

/** A message for a value that is clearly not a handle (null when it looks like one, for zod to check). */
function notAHandle(value: unknown): string | null {
  const fix = "attach() takes the object bus.handle() returned, passed to this thread as workerData.handle";
  if (typeof value !== "object" || value === null) return `got ${describe(value)}: ${fix}`;
  if ("handle" in value && !("buffer" in value))
    return `got an object that holds a handle under 'handle' (workerData itself?): call attach(workerData.handle)`;
  if (!Object.keys(value).some((key) => HANDLE_FIELDS.includes(key)))
    return `got ${describe(value)}, not a handle: ${fix}`;
  return null;
}

const handleSchema = z
  .object({
    buffer: z.custom<SharedArrayBuffer>(
      (value) => value instanceof SharedArrayBuffer,
      "must be a SharedArrayBuffer",
    ),
    client: z.number().int().min(1, "must be a client slot from bus.handle()").max(1023),
    nonce: z.number().int().min(1).max(0x7fff_ffff),
    onFull: z.enum(["wait", "throw", "drop"]).optional(),
    maxWaitMs: z.number().min(0).max(10_000),
    port: z.custom<MessagePort>(
      (value) => value instanceof MessagePort,
      "must be the MessagePort of the handle",
    ),
  })
  .strict();

/**
 * A handle must come from bus.handle() and be used once: its buffer must be a WorkerBus's (magic
 * and layout version), and its slot must still hold its nonce. A forged, reused or released
 * handle is refused with InvalidOptionsError instead of attaching a thread the dispatcher does not
 * know (whose calls would never be answered).
 */
function validateHandle(handle: WorkerBusHandle): WorkerBusHandle {
  const wrong = notAHandle(handle);
  if (wrong !== null) throw new InvalidOptionsError(`handle: ${wrong}`, "handle");
  const parsed = handleSchema.safeParse(handle);
  if (!parsed.success) throw optionsError(parsed.error, "handle");
  const { buffer, client, nonce } = parsed.data;
  const invalid = (why: string) => new InvalidOptionsError(`handle: ${why}`, "handle");
  if (buffer.byteLength < HEADER_WORDS * 4) throw invalid("its buffer is not a WorkerBus's");
  const header = new Int32Array(buffer, 0, HEADER_WORDS);
  if (Atomics.load(header, kMagic) !== MAGIC || Atomics.load(header, kVersion) !== LAYOUT_VERSION)
    throw invalid("its buffer is not a WorkerBus's (or of another threadbus version)");
  const maxClients = Atomics.load(header, kMaxClients);
  if (client >= maxClients) throw invalid(`client ${client} is out of range`);
  const clients = new Int32Array(buffer, Atomics.load(header, kClientsOffset), maxClients);
  if (Atomics.compareExchange(clients, client, nonce, -nonce) !== nonce)
    throw invalid("it was not made by this bus's handle(), was used already, or its slot was given back");
  return parsed.data as WorkerBusHandle;
}
