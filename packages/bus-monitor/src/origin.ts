import type { IncomingMessage } from "node:http";

/**
 * True when the request is addressed to a loopback name on the monitor's port. Without a token,
 * only those are served: a page on another site cannot reach the monitor through DNS rebinding.
 */
export function loopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host.toLowerCase());
}

/**
 * Why the request comes from a page on another origin, or null if nothing says so.
 *
 * A page on another port of 127.0.0.1 could read nothing (CORS), but its `no-cors` fetches of
 * /tail were answered, and 8 lanes of them held every tail slot. Browsers say where a request
 * comes from: `Sec-Fetch-Site` on every request of a current browser (`same-site` for another port
 * of the same host: a site ignores the port), `Origin` on CORS requests and on anything but GET
 * and HEAD. A request that carries neither (curl, a typed URL's navigation says `none`) is no
 * page's, and is served.
 */
export function foreignOrigin(request: IncomingMessage): string | null {
  const site = request.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") return `Sec-Fetch-Site: ${site}`;
  const origin = request.headers.origin;
  if (origin === undefined) return null;
  const own = request.headers.host === undefined ? null : `http://${request.headers.host.toLowerCase()}`;
  return origin.toLowerCase() === own ? null : `Origin: ${origin}`;
}
