import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CatalogueLike, InvalidOptionsError, type TypedCatalogue } from "@threadbus/core";
import { TOKEN_COOKIE, TokenCheck } from "./auth.js";
import { type ConnectionCounters, deadlineCheckInterval, limitConnections } from "./connections.js";
import * as endpoints from "./endpoints.js";
import { History } from "./history.js";
import { type MonitorOptions, resolveMonitorOptions } from "./options.js";
import { foreignOrigin, loopbackHost } from "./origin.js";
import { parseQuery, QueryError } from "./query.js";
import { BusUnavailableError, type MonitoredBus, Snapshots } from "./snapshot.js";
import { type TailCounters, Tails } from "./tail.js";

/** A running monitor. */
export interface Monitor {
  /** The page's address, e.g. "http://127.0.0.1:39181/" (add `?token=...` when a token is set). */
  readonly url: string;
  /**
   * What the monitor's own live tails did (their drops count in the bus's `stats().dropped` like
   * any subscription's, so a caller that checks the bus for drops can tell them apart), its
   * connections, and every request it refused, by reason.
   */
  stats(): MonitorStats;
  /** Ends the live tails (removing their subscriptions), stops sampling and closes the server. */
  close(): Promise<void>;
}

export interface MonitorStats {
  /** Tails streaming now. */
  tails: number;
  /** Tails holding a slot without streaming yet (subscribing) or any more (unsubscribing). */
  opening: number;
  tail: TailCounters;
  connections: ConnectionCounters;
  refused: {
    /** 503: every tail slot was taken. */
    tails: number;
    /** 403: the request came from a page on another origin. */
    crossOrigin: number;
    /** 403: without a token, the request was not addressed to a loopback name. */
    host: number;
    /** 401: no valid token. */
    token: number;
  };
}

/**
 * No inline script or style, nothing from another origin, no framing: the page's code is the
 * files below, served by this server.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), "..", "public");
// uPlot ships no "exports" map: its dist files resolve by path, from this package's node_modules.
const UPLOT = dirname(createRequire(import.meta.url).resolve("uplot/dist/uPlot.iife.min.js"));

const STATIC: Record<string, { file: string; type: string }> = {
  "/": { file: join(PUBLIC, "index.html"), type: "text/html; charset=utf-8" },
  "/app.js": { file: join(PUBLIC, "app.js"), type: "text/javascript; charset=utf-8" },
  "/app.css": { file: join(PUBLIC, "app.css"), type: "text/css; charset=utf-8" },
  "/uplot.js": { file: join(UPLOT, "uPlot.iife.min.js"), type: "text/javascript; charset=utf-8" },
  "/uplot.css": { file: join(UPLOT, "uPlot.min.css"), type: "text/css; charset=utf-8" },
};

type JsonEndpoint = (context: endpoints.EndpointContext, query: URLSearchParams) => object | Promise<object>;

const JSON_ENDPOINTS: Record<string, JsonEndpoint> = {
  "/varz": endpoints.varz,
  "/subsz": endpoints.subsz,
  "/connz": endpoints.connz,
  "/match": endpoints.match,
  "/history": endpoints.history,
};

/**
 * Serves a live, read-only view of `bus` (the in-thread Bus or the WorkerBus) over HTTP:
 * JSON endpoints (/varz, /subsz, /connz, /match, /history), a server-sent-events tail (/tail) and
 * an HTML page (/). Binds 127.0.0.1 by default; any other host needs a token. Options are checked
 * first: InvalidOptionsError (INVALID_OPTIONS) or MonitorTokenRequiredError (MONITOR_TOKEN_REQUIRED).
 */
export function serveMonitor(bus: MonitoredBus, options?: MonitorOptions): Promise<Monitor>;
/** A bus typed by a catalogue is served the same way: the monitor never relies on its types. */
export function serveMonitor<C extends TypedCatalogue>(
  bus: MonitoredBus<C>,
  options?: MonitorOptions,
): Promise<Monitor>;
export async function serveMonitor<C extends CatalogueLike>(
  typedBus: MonitoredBus<C>,
  options?: MonitorOptions,
): Promise<Monitor> {
  // The monitor shows events, it never relies on their types: it holds the bus untyped.
  const bus = typedBus as unknown as MonitoredBus;
  const candidate = bus as Partial<MonitoredBus> | null | undefined;
  if (typeof candidate?.inspect !== "function" || typeof candidate.stats !== "function")
    throw new InvalidOptionsError(
      "bus: must be a Bus or a WorkerBus (it needs inspect() and stats())",
      "bus",
    );
  const resolved = resolveMonitorOptions(options);
  const check = resolved.token === null ? null : new TokenCheck(resolved.token);
  const history = new History(bus, resolved.sampleIntervalMs, resolved.historySeconds);
  const tails = new Tails(bus, resolved.showData, resolved.maxTails);
  const context: endpoints.EndpointContext = {
    snapshots: new Snapshots(bus),
    history,
    tails,
    showData: resolved.showData,
  };
  const files = new Map<string, Buffer>();
  for (const [route, { file }] of Object.entries(STATIC)) files.set(route, await readFile(file));

  const refused = { crossOrigin: 0, host: 0, token: 0 };
  const server = createServer(
    { connectionsCheckingInterval: deadlineCheckInterval(resolved.headersTimeoutMs) },
    (request, response) => {
      handle(request, response).catch((error: unknown) => fail(response, error));
    },
  );
  const connections = limitConnections(server, resolved);
  let port = resolved.port;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader("content-security-policy", CSP);
    response.setHeader("x-content-type-options", "nosniff");
    response.setHeader("referrer-policy", "no-referrer");
    response.setHeader("cache-control", "no-store");
    let url: URL;
    try {
      url = new URL(request.url ?? "/", "http://monitor.invalid");
    } catch {
      return send(response, 400, { error: "bad request URL" });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      return send(response, 405, { error: "the monitor is read-only: only GET and HEAD are served" });
    }
    if (check === null && !loopbackHost(request.headers.host, port)) {
      refused.host++;
      return send(response, 403, { error: "requests must be addressed to 127.0.0.1, localhost or [::1]" });
    }
    const foreign = foreignOrigin(request);
    if (foreign !== null) {
      refused.crossOrigin++;
      return send(response, 403, { error: `only the monitor's own page may use it (${foreign})` });
    }
    if (check !== null) {
      const presented = TokenCheck.presented(request, url.searchParams);
      if (!check.matches(presented)) {
        refused.token++;
        response.setHeader("www-authenticate", 'Bearer realm="threadbus monitor"');
        return send(response, 401, { error: "a valid token is required" });
      }
      if (url.searchParams.has("token"))
        response.setHeader(
          "set-cookie",
          `${TOKEN_COOKIE}=${encodeURIComponent(presented!)}; HttpOnly; SameSite=Strict; Path=/`,
        );
    }
    const file = STATIC[url.pathname];
    if (file !== undefined) {
      response.writeHead(200, { "content-type": file.type });
      response.end(request.method === "HEAD" ? undefined : files.get(url.pathname));
      return;
    }
    const endpoint = JSON_ENDPOINTS[url.pathname];
    if (endpoint !== undefined) return send(response, 200, await endpoint(context, url.searchParams));
    if (url.pathname === "/tail") {
      const q = parseQuery(url.searchParams, endpoints.tailQuery);
      const filter = { system: q.system ?? "**", kind: q.kind ?? "", path: q.path };
      if (request.method === "HEAD") {
        // Checks the filter without subscribing: a HEAD request never opens a stream.
        Tails.validate(filter);
        response.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
        response.end();
        return;
      }
      return tails.open(filter, response);
    }
    return send(response, 404, {
      error: `no such page: ${url.pathname}`,
      endpoints: ["/", ...Object.keys(JSON_ENDPOINTS), "/tail"],
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((error: unknown) => {
    history.stop();
    throw error;
  });
  port = (server.address() as AddressInfo).port;
  const shownHost =
    resolved.host.includes(":") && !resolved.host.startsWith("[") ? `[${resolved.host}]` : resolved.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}/`,
    stats: () => ({
      tails: tails.streaming,
      opening: tails.opening,
      tail: tails.totals(),
      connections: { ...connections },
      refused: { tails: tails.refused, ...refused },
    }),
    close() {
      closing ??= (async () => {
        history.stop();
        await tails.closeAll();
        await closeServer(server);
      })();
      return closing;
    },
  };
}

function send(response: ServerResponse, status: number, body: object): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const json = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(response.req.method === "HEAD" ? undefined : json);
}

/** Maps a handler's error to its status: 400 bad query, 503 bus unavailable, else 500 (never a crash). */
function fail(response: ServerResponse, error: unknown): void {
  if (error instanceof QueryError) send(response, 400, { error: error.message });
  else if (error instanceof BusUnavailableError) send(response, 503, { error: error.message });
  else send(response, 500, { error: `internal error: ${(error as Error)?.message ?? String(error)}` });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
