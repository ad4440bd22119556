import { BroadcastChannel, workerData } from "node:worker_threads";

// The far end of the BroadcastChannel peer: every message on the "in" channel goes back on "out".
const { name } = workerData as { name: string };
const input = new BroadcastChannel(`${name}:in`);
const output = new BroadcastChannel(`${name}:out`);
input.onmessage = (message: unknown) => output.postMessage((message as { data: unknown }).data);
