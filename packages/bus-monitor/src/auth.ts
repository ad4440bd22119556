import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The cookie the page keeps the token in after it was opened with `?token=`. */
export const TOKEN_COOKIE = "threadbus_monitor";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * Checks a request's token in constant time: both sides are hashed to 32 bytes first, so
 * timingSafeEqual always compares equal lengths and the comparison says nothing about the token's
 * length or prefix.
 */
export class TokenCheck {
  readonly #expected: Buffer;

  constructor(token: string) {
    this.#expected = digest(token);
  }

  /** The token the request carries (Authorization: Bearer, the `token` query parameter, or the cookie). */
  static presented(request: IncomingMessage, query: URLSearchParams): string | null {
    const header = request.headers.authorization;
    if (header?.startsWith("Bearer ")) return header.slice(7).trim();
    const fromQuery = query.get("token");
    if (fromQuery !== null) return fromQuery;
    for (const part of (request.headers.cookie ?? "").split(";")) {
      const [name, ...value] = part.trim().split("=");
      if (name === TOKEN_COOKIE) return decodeCookie(value.join("="));
    }
    return null;
  }

  matches(presented: string | null): boolean {
    return timingSafeEqual(digest(presented ?? ""), this.#expected) && presented !== null;
  }
}

function decodeCookie(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
