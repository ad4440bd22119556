import { parentPort } from "node:worker_threads";

// The far end of the postMessage peers: every message (one event, or a batch of 64) goes straight back.
const port = parentPort!;
port.on("message", (message: unknown) => port.postMessage(message));
