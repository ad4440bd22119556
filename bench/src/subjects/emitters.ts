import { EventEmitter } from "node:events";
import EventEmitter2 from "eventemitter2";
import { EventEmitter as EventEmitter3 } from "eventemitter3";

/** The in-thread peers, behind one shape: listen on a name (or pattern), emit a name. */
export interface Emitter {
  readonly name: string;
  on(pattern: string, listener: (payload: unknown) => void): void;
  emit(name: string, payload: unknown): void;
}

/** EventEmitter2 in wildcard mode (`*` one segment, `**` any): the closest feature peer. */
export function eventEmitter2(): Emitter {
  const ee = new EventEmitter2.EventEmitter2({ wildcard: true, delimiter: ".", maxListeners: 0 });
  return {
    name: "EventEmitter2 (wildcard)",
    on: (pattern, listener) => void ee.on(pattern, listener),
    emit: (name, payload) => void ee.emit(name, payload),
  };
}

/** eventemitter3 with exact names: the raw in-thread ceiling. */
export function eventEmitter3(): Emitter {
  const ee = new EventEmitter3();
  return {
    name: "eventemitter3",
    on: (pattern, listener) => void ee.on(pattern, listener),
    emit: (name, payload) => void ee.emit(name, payload),
  };
}

/** node:events with exact names. */
export function nodeEventEmitter(): Emitter {
  const ee = new EventEmitter();
  ee.setMaxListeners(0);
  return {
    name: "node:events EventEmitter",
    on: (pattern, listener) => void ee.on(pattern, listener),
    emit: (name, payload) => void ee.emit(name, payload),
  };
}
