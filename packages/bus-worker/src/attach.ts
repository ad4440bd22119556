import { MessagePort, workerData } from "node:worker_threads";
import {
  type CatalogueLike,
  type CatalogueOptions,
  catalogueSchema,
  InvalidOptionsError,
  type Logger,
  loggerSchema,
  optionsError,
  parseOptions,
  type ResolvedCatalogue,
  resolveStopOptions,
  type StopOptions,
  type Untyped,
  uncataloguedSchema,
  validateModeSchema,
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
export class AttachedBus<C extends CatalogueLike = Untyped> extends BusClient<C> {
  #stopPromise: Promise<void> | null = null;

  constructor(handle: WorkerBusHandle, logger: Logger = console, catalogue?: ResolvedCatalogue) {
    const config = validateHandle(handle);
    super(
      config,
      handle.port,
      logger,
      catalogue ?? { events: null, validate: "shape", uncatalogued: "refuse" },
    );
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
 * What attach() takes besides the handle: the bus's catalogue (the same module the starting thread
 * gave WorkerBus.start; `validate` and `uncatalogued` default to that thread's), and a logger.
 */
export interface AttachOptions extends CatalogueOptions {
  logger?: Logger;
}

const attachOptionsSchema = z.strictObject({
  events: catalogueSchema.optional(),
  validate: validateModeSchema.optional(),
  uncatalogued: uncataloguedSchema.optional(),
  logger: loggerSchema.optional(),
});

/**
 * Attaches this thread to a running WorkerBus through a handle from `bus.handle()`. The one
 * documented way: the starting thread passes `{ workerData: { handle }, transferList:
 * [handle.port] }` to `new Worker`, and the worker calls `attach(workerData.handle)` (which is also
 * what `attach()` with no handle reads). Anything else is refused with InvalidOptionsError naming
 * what it got and the likely fix.
 *
 * The second argument is AttachOptions, or (as before) a Logger. A bus started with a catalogue
 * must be attached with the same one, and one without, without: anything else is refused with
 * INVALID_OPTIONS naming the first (system, kind) that differs, before the handle is used.
 */
export function attach<C extends CatalogueLike>(
  handle: WorkerBusHandle | undefined,
  options: AttachOptions & { events: C },
): AttachedBus<C>;
export function attach(handle?: WorkerBusHandle, options?: AttachOptions | Logger): AttachedBus;
export function attach<C extends CatalogueLike = Untyped>(
  handle?: WorkerBusHandle,
  options?: AttachOptions | Logger,
): AttachedBus<C> {
  if (handle === undefined) {
    const fromWorkerData = (workerData as { handle?: WorkerBusHandle } | null)?.handle;
    if (fromWorkerData === undefined)
      throw new InvalidOptionsError(
        `handle: attach() got no handle, and workerData.handle holds none (workerData is ${describe(workerData)}): start this worker with new Worker(file, { workerData: { handle }, transferList: [handle.port] }), handle = bus.handle(), and call attach(workerData.handle)`,
        "handle",
      );
    handle = fromWorkerData;
  }
  if (options !== undefined && isLogger(options)) return new AttachedBus<C>(handle, options);
  if (options !== undefined && (typeof options !== "object" || options === null))
    throw new InvalidOptionsError("logger: must have warn() and error() methods", "logger");
  const parsed = parseOptions(attachOptionsSchema, options);
  const events = parsed.events ?? null;
  // Read with care: a garbage handle is refused by validateHandle, with its own message.
  const given = handle as Partial<WorkerBusHandle> | null | undefined;
  const theirs = typeof given === "object" ? given?.catalogue : undefined;
  if (events !== null || theirs !== undefined) {
    let differs: string | null;
    if (events === null) differs = `the bus has a catalogue: pass it as attach(handle, { events })`;
    else if (!Array.isArray(theirs)) differs = "the bus was started without a catalogue";
    else {
      const first = events.difference(theirs);
      differs = first === null ? null : `'${first}' differs from the bus's catalogue`;
    }
    if (differs !== null)
      throw new InvalidOptionsError(
        `options.events: ${differs} (every thread imports the same catalogue module)`,
        "options.events",
      );
  }
  const catalogue: ResolvedCatalogue = {
    events,
    validate: parsed.validate ?? (typeof given === "object" ? given?.validate : undefined) ?? "shape",
    uncatalogued:
      parsed.uncatalogued ?? (typeof given === "object" ? given?.uncatalogued : undefined) ?? "refuse",
  };
  return new AttachedBus<C>(handle, parsed.logger, catalogue);
}

function isLogger(value: unknown): value is Logger {
  return loggerSchema.safeParse(value).success;
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
    catalogue: z.array(z.string()).optional(),
    validate: validateModeSchema.optional(),
    uncatalogued: uncataloguedSchema.optional(),
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
