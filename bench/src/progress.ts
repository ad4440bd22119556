/**
 * One line per scenario and per subject, with elapsed time. On a terminal the running line is
 * rewritten in place as repeats finish; in CI logs each line is printed once, when done.
 */
/** Where progress goes: process.stderr, or anything with write() (tests pass a collector). */
export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export class Progress {
  readonly #tty: boolean;
  readonly #out: ProgressSink;
  readonly #started = performance.now();

  constructor(out: ProgressSink = process.stderr) {
    this.#out = out;
    this.#tty = Boolean(out.isTTY);
  }

  scenario(id: string, title: string): void {
    this.#out.write(`\n${id}  ${title}\n`);
  }

  /** Shown while a subject runs (terminal only). */
  running(label: string, detail: string): void {
    if (this.#tty) this.#out.write(`\r\x1b[2K  ${label.padEnd(52)} ${detail}`);
  }

  done(label: string, detail: string, elapsedMs: number): void {
    const line = `  ${label.padEnd(52)} ${detail.padEnd(34)} ${formatSeconds(elapsedMs)}`;
    this.#out.write(this.#tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }

  note(message: string): void {
    this.#out.write(this.#tty ? `\r\x1b[2K  ${message}\n` : `  ${message}\n`);
  }

  get elapsedMs(): number {
    return performance.now() - this.#started;
  }
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
