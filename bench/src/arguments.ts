import { resolve } from "node:path";

export interface Arguments {
  filters: string[];
  quick: boolean;
  out: string | null;
}

export function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = { filters: [], quick: false, out: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // pnpm forwards the "--" of `pnpm bench -- x`; it means nothing here.
    if (arg === "--") continue;
    if (arg === "--quick") parsed.quick = true;
    else if (arg === "--out") {
      const dir = argv[++i];
      if (!dir) throw new UsageError("--out needs a directory");
      parsed.out = resolve(dir);
    } else if (arg === "--help" || arg === "-h") throw new UsageError("");
    else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    else parsed.filters.push(arg);
  }
  return parsed;
}

/** Bad command line: the CLI prints the message and the usage. An empty message asks for help. */
export class UsageError extends Error {}
