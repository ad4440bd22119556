// What a new user runs into first (issue 21): mistakes that explain themselves, and counters that
// agree with what the bus does.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { attach, WorkerBus } from "../dist/index.js";
import { nextMessage, useBuses } from "./support.js";

const quiet = { warn: () => undefined, error: () => undefined };

function refusal(call: () => unknown): { code?: string; option?: string; message: string } {
  try {
    call();
  } catch (error) {
    return error as { code?: string; option?: string; message: string };
  }
  throw new Error("it was accepted");
}

/** Runs `body` (ESM, with `attach` and `workerData` in scope) in a worker given `{ handle }`. */
function workerWithHandle(bus: WorkerBus, body: string): Worker {
  const handle = bus.handle();
  const dist = new URL("../dist/index.js", import.meta.url).href;
  const source = `
    import { parentPort, workerData } from "node:worker_threads";
    import { attach } from ${JSON.stringify(dist)};
    ${body}`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
    workerData: { handle },
    transferList: [handle.port],
  });
}

describe("a new user's first mistakes explain themselves", () => {
  const start = useBuses();

  it("a misspelled WorkerBus option names the closest one", async () => {
    const error = await WorkerBus.start({ ringByte: 1 << 16 } as never).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "INVALID_OPTIONS",
      option: "options.ringByte",
      message: "options.ringByte: unknown option (did you mean 'ringBytes'?)",
    });
  });

  it("attach() of workerData itself, of something else or of nothing says what it got and the fix", async () => {
    const bus = await start();
    const handle = bus.handle();
    const wrapped = refusal(() => attach({ handle } as never));
    expect(wrapped).toMatchObject({ code: "INVALID_OPTIONS", option: "handle" });
    expect(wrapped.message).toContain("attach(workerData.handle)");
    expect(wrapped.message).not.toContain("SharedArrayBuffer");
    const number = refusal(() => attach(42 as never));
    expect(number.message).toContain("got a number");
    const other = refusal(() => attach({ port: 1, buffers: [] } as never));
    expect(other.message).toContain("handle.buffer");
    const stranger = refusal(() => attach({ hello: 1 } as never));
    expect(stranger.message).toContain("got an object with keys hello, not a handle");
    // The main thread has no workerData: attach() without a handle says where the handle goes.
    const none = refusal(() => attach());
    expect(none).toMatchObject({ code: "INVALID_OPTIONS", option: "handle" });
    expect(none.message).toContain("workerData: { handle }");
    // None of those used the handle up: it still attaches.
    const attached = attach(handle, quiet);
    expect(attached.closed).toBe(false);
    await attached.stop();
  });

  it("the documented way works in a worker: { workerData: { handle } }, then attach(workerData.handle) or attach()", async () => {
    const bus = await start();
    const sub = await bus.subscribe("w");
    for (const call of ["attach(workerData.handle)", "attach()"]) {
      const worker = workerWithHandle(
        bus,
        `const bus = ${call};
         bus.send({ system: "w", kind: "hello", path: ${JSON.stringify(call)} });
         await bus.stop();
         parentPort.postMessage("sent");`,
      );
      expect(await nextMessage(worker)).toBe("sent");
    }
    const paths: string[] = [];
    for await (const event of sub) {
      paths.push(event.path);
      if (paths.length === 2) break;
    }
    expect(paths).toEqual(["attach(workerData.handle)", "attach()"]);
  });

  it("stats().clients counts slots exactly as handle() gives them out, from the start", async () => {
    const bus = await start({ maxClients: 3, logger: quiet });
    expect(bus.stats().clients).toBe(1);
    const unused = [bus.handle(), bus.handle()];
    expect(bus.stats().clients).toBe(3);
    expect(refusal(() => bus.handle())).toMatchObject({
      code: "INVALID_OPTIONS",
      option: "options.maxClients",
    });
    // Handles dropped unused: their slots come back once the dispatcher sees their ports close,
    // and stats() says so at the same moment handle() works again.
    for (const handle of unused) handle.port.close();
    const deadline = Date.now() + 10_000;
    while (bus.stats().clients > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(bus.stats().clients).toBe(1);
    const again = bus.handle();
    expect(bus.stats().clients).toBe(2);
    again.port.close();
    await bus.stop();
    expect(bus.stats().clients).toBe(0);
  });

  it("a pattern that looks like a wildcard but is literal is warned about once, through the bus's logger", async () => {
    const warnings: string[] = [];
    const bus = await start({
      logger: { warn: (message: string) => void warnings.push(message), error: () => {} },
    });
    await bus.subscribe("orders", "create*");
    await bus.subscribe("orders", "create*");
    await bus.subscribe("orders", "create.*");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("the kind pattern 'create*'");
  });

  it("console.log(event) shows a delivered event as the plain object it stands for", async () => {
    const bus = await start();
    const sub = await bus.subscribe("s");
    const sent = [
      { system: "s", kind: "k", path: "p/1", data: { n: 1, tags: ["a"] } },
      { system: "s", kind: "k", path: "p/2" },
    ];
    for (const event of sent) bus.send(event);
    const got = [];
    for await (const event of sub) {
      got.push(event);
      if (got.length === 2) break;
    }
    // Before data was read (still lazily decoded) and after: the same as the plain event.
    expect(inspect(got[0])).toBe(inspect(sent[0]));
    expect(got[0]!.data).toEqual(sent[0]!.data);
    expect(inspect(got[0])).toBe(inspect(sent[0]));
    expect(inspect(got[1])).toBe(inspect(sent[1]));
    expect(inspect(got[0])).not.toContain("Getter");
  });
});

/** Runs fixtures/never_stopped.mjs; resolves with its exit code, or "alive" if it still runs after `aliveMs`. */
function neverStopped(args: string[], aliveMs: number): Promise<number | "alive"> {
  const script = new URL("./fixtures/never_stopped.mjs", import.meta.url);
  const child = spawn(process.execPath, [fileURLToPath(script), ...args], { stdio: "inherit" });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve("alive");
    }, aliveMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

describe("a bus that is never stopped", () => {
  it("keeps the process alive, as a server does, unless unref() says it may exit", async () => {
    // Both children do the same work (subscribe, send, receive, inspect, flush: each call that waits
    // for an answer kept the process alive while it waited); only the one that called unref() exits.
    const [kept, released] = await Promise.all([neverStopped([], 6000), neverStopped(["unref"], 6000)]);
    expect(kept).toBe("alive");
    expect(released).toBe(0);
  });
});
