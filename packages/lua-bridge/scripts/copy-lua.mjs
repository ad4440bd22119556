#!/usr/bin/env node
// Build step: copies the Lua runtime (src/lua/*.lua) next to the compiled JS (dist/lua/), where
// the engine threads read it. tsc copies only TypeScript output.
import { cpSync, rmSync } from "node:fs";

const from = new URL("../src/lua/", import.meta.url);
const to = new URL("../dist/lua/", import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true, filter: (path) => !path.endsWith("~") });
