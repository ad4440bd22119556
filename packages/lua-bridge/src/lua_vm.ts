import { type LuaEngine, LuaFactory } from "wasmoon";

/** An engine's Lua VM and its memory gauge. */
export interface LuaVm {
  readonly lua: LuaEngine;
  /** Bytes the VM has allocated. */
  memoryUsed(): number;
  /** Allocations that would take the VM above `bytes` fail (Lua raises "not enough memory"); undefined lifts it. */
  setMemoryMax(bytes: number | undefined): void;
  /** True when the direct path below is in use (false: wasmoon's own, slower, path). */
  readonly direct: boolean;
  close(): void;
}

const ENGINE_OPTIONS = { openStandardLibs: true, injectObjects: false, enableProxy: false } as const;

/** The WebAssembly API as far as used here (TypeScript's ES2022 lib has no WebAssembly values). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  instantiate: (...args: unknown[]) => Promise<unknown>;
  Instance: abstract new (...args: never[]) => WasmInstance;
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** What this file needs of wasmoon's emscripten module and LuaWasm (not in wasmoon's types). */
type Fn = (...args: never[]) => unknown;
interface EmscriptenModule {
  [name: string]: unknown;
  ccall: (name: string, returnType: string | null, argTypes: string[], args: unknown[]) => unknown;
  stringToNewUTF8: (text: string) => number;
  addFunction: (fn: Fn, signature: string) => number;
  removeFunction: (pointer: number) => void;
}
interface LuaWasm {
  [name: string]: unknown;
  module: EmscriptenModule;
  lua_setallocf: (L: number, f: number, ud: number) => void;
}
interface Raw {
  memory: WasmMemory;
  malloc(size: number): number;
  free(pointer: number): void;
  realloc(pointer: number, size: number): number;
  stackSave(): number;
  stackRestore(pointer: number): void;
  stackAlloc(size: number): number;
  lua_pushlstring(L: number, pointer: number, length: number): number;
  lua_tolstring(L: number, index: number, lengthPointer: number): number;
  [name: string]: unknown;
}

/**
 * Creates a wasmoon VM. wasmoon 1.16 ships an emscripten build with ASSERTIONS: every call into
 * wasm goes through a wrapper that builds two template strings and an `arguments` object, strings
 * cross one character at a time, and with traceAllocations every Lua allocation takes that path
 * too. On an engine thread fed 200k events/s this was a quarter of the thread's time in garbage
 * collection alone. Here the same calls go to the raw wasm exports (captured when wasmoon
 * instantiates its module), strings cross with TextEncoder/TextDecoder, and the memory limit is a
 * lean allocator of our own (lua_setallocf). Semantics are unchanged; if wasmoon's shape differs
 * from what this expects, the VM is created the plain way (`direct: false`).
 */
export async function createLuaVm(): Promise<LuaVm> {
  const { factory, raw } = await instantiate();
  const luaWasm = (await factory.getLuaModule()) as unknown as LuaWasm;
  if (raw === null || !isComplete(raw, luaWasm)) return plainVm(factory);
  speedUp(luaWasm, raw);
  const lua = await factory.createEngine({ ...ENGINE_OPTIONS, traceAllocations: false });
  const gauge = { used: Number(lua.doStringSync("return collectgarbage('count')")) * 1024, max: 0 };
  const { realloc, free } = raw;
  // lua_Alloc(ud, ptr, osize, nsize): osize is the old block's size when ptr is set.
  const allocator = luaWasm.module.addFunction(
    ((_ud: number, ptr: number, osize: number, nsize: number) => {
      if (nsize === 0) {
        if (ptr !== 0) {
          gauge.used -= osize;
          free(ptr);
        }
        return 0;
      }
      const delta = ptr !== 0 ? nsize - osize : nsize;
      if (delta > 0 && gauge.max > 0 && gauge.used + delta > gauge.max) return 0;
      const block = realloc(ptr, nsize);
      if (block !== 0) gauge.used += delta;
      return block;
    }) as Fn,
    "iiiii",
  );
  luaWasm.lua_setallocf(lua.global.address, allocator, 0);
  return {
    lua,
    direct: true,
    memoryUsed: () => gauge.used,
    setMemoryMax: (bytes) => {
      gauge.max = bytes ?? 0;
    },
    close: () => {
      lua.global.close();
      luaWasm.module.removeFunction(allocator);
    },
  };
}

async function plainVm(factory: LuaFactory): Promise<LuaVm> {
  const lua = await factory.createEngine({ ...ENGINE_OPTIONS, traceAllocations: true });
  return {
    lua,
    direct: false,
    memoryUsed: () => lua.global.getMemoryUsed(),
    setMemoryMax: (bytes) => lua.global.setMemoryMax(bytes),
    close: () => lua.global.close(),
  };
}

/** A LuaFactory, and the exports of the wasm instance it creates (this thread only; restored at once). */
async function instantiate(): Promise<{ factory: LuaFactory; raw: Raw | null }> {
  const original = wasm.instantiate;
  let raw: Raw | null = null;
  const capture = (result: unknown) => {
    const instance = result instanceof wasm.Instance ? result : (result as { instance?: unknown }).instance;
    if (raw === null && instance instanceof wasm.Instance) raw = instance.exports as unknown as Raw;
    return result;
  };
  wasm.instantiate = function (this: unknown, ...args: unknown[]) {
    return (Reflect.apply(original, this, args) as Promise<unknown>).then(capture);
  };
  try {
    const factory = new LuaFactory();
    await factory.getLuaModule();
    return { factory, raw };
  } finally {
    wasm.instantiate = original;
  }
}

const NEEDED = [
  "malloc",
  "free",
  "realloc",
  "stackSave",
  "stackRestore",
  "stackAlloc",
  "lua_pushlstring",
  "lua_tolstring",
];

function isComplete(raw: Raw, luaWasm: LuaWasm): boolean {
  const module = luaWasm.module;
  return (
    raw.memory instanceof wasm.Memory &&
    NEEDED.every((name) => typeof raw[name] === "function") &&
    typeof module.ccall === "function" &&
    typeof module.addFunction === "function" &&
    typeof module.stringToNewUTF8 === "function" &&
    typeof luaWasm.lua_setallocf === "function" &&
    typeof luaWasm.lua_pushstring === "function" &&
    typeof luaWasm.lua_tolstring === "function"
  );
}

function speedUp(luaWasm: LuaWasm, raw: Raw): void {
  const module = luaWasm.module;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let heap = new Uint8Array(raw.memory.buffer);
  // The wasm memory's view; a new one once the memory grew (the old buffer is then detached).
  const bytes = () => {
    if (heap.buffer !== raw.memory.buffer) heap = new Uint8Array(raw.memory.buffer);
    return heap;
  };
  // Writes text as UTF-8 and a NUL at pointer (room: 3 bytes per UTF-16 unit + 1); returns its length.
  const write = (text: string, pointer: number, room: number): number => {
    const memory = bytes();
    const { written } = encoder.encodeInto(text, memory.subarray(pointer, pointer + room - 1));
    memory[pointer + written] = 0;
    return written;
  };
  const readCString = (pointer: number): string => {
    if (pointer === 0) return "";
    const memory = bytes();
    const end = memory.indexOf(0, pointer);
    return decoder.decode(memory.subarray(pointer, end < 0 ? memory.length : end));
  };

  // 1. Exported functions without the assertion wrapper (ccall looks them up as _name).
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === "function" && typeof module[`_${name}`] === "function") module[`_${name}`] = value;
  }

  // 2. ccall with strings written by TextEncoder on the wasm stack, as emscripten's does.
  module.ccall = (name, returnType, argTypes, args) => {
    const fn = raw[name] as (...a: unknown[]) => unknown;
    let stack = 0;
    for (let i = 0; i < argTypes.length; i++) {
      if (argTypes[i] !== "string") continue;
      const text = args[i];
      if (typeof text !== "string") {
        args[i] = 0;
        continue;
      }
      if (stack === 0) stack = raw.stackSave();
      const room = text.length * 3 + 1;
      const pointer = raw.stackAlloc(room);
      write(text, pointer, room);
      args[i] = pointer;
    }
    const result = fn(...args);
    if (stack !== 0) raw.stackRestore(stack);
    if (returnType === "string") return readCString(result as number);
    if (returnType === "boolean") return Boolean(result);
    return result;
  };

  module.stringToNewUTF8 = (text: string) => {
    const room = text.length * 3 + 1;
    const pointer = raw.malloc(room);
    if (pointer !== 0) write(text, pointer, room);
    return pointer;
  };

  // 3. Strings into and out of Lua by length (wasmoon ignores lua_pushstring's result, which
  //    emscripten would otherwise decode back into a JS string, a whole event batch each time).
  luaWasm.lua_pushstring = (L: number, text: string) => {
    const room = text.length * 3 + 1;
    const pointer = raw.malloc(room);
    if (pointer === 0) throw new Error("threadbus lua: out of wasm memory");
    try {
      raw.lua_pushlstring(L, pointer, write(text, pointer, room));
    } finally {
      raw.free(pointer);
    }
  };
  luaWasm.lua_tolstring = (L: number, index: number) => {
    const stack = raw.stackSave();
    const lengthPointer = raw.stackAlloc(4);
    const pointer = raw.lua_tolstring(L, index, lengthPointer);
    const memory = bytes();
    const length =
      memory[lengthPointer]! |
      (memory[lengthPointer + 1]! << 8) |
      (memory[lengthPointer + 2]! << 16) |
      (memory[lengthPointer + 3]! << 24);
    raw.stackRestore(stack);
    return pointer === 0 ? "" : decoder.decode(memory.subarray(pointer, pointer + (length >>> 0)));
  };
}
