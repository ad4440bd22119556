import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** CI must run the browser tests: there a missing Chromium fails the run instead of skipping. */
export const IN_CI = process.env.CI === "true" || process.env.CI === "1";

/** The Chromium binary: $CHROMIUM if set, else Debian's /usr/bin/chromium; null if it does not exist. */
const candidate = process.env.CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM: string | null = existsSync(candidate) ? candidate : null;

export const MISSING_CHROMIUM =
  "Chromium not found (set CHROMIUM or `apt-get install chromium`): the monitor's browser tests are skipped";

/**
 * Starts headless Chromium. playwright-core brings no browser of its own: it drives Debian's.
 * launch() gives it a fresh temporary profile (user-data-dir) that it removes on close.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM!,
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}
