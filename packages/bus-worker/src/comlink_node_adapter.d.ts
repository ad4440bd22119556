// comlink 4.4 ships its Node adapter without a declaration TypeScript can find for the .mjs path
// (only node-adapter.d.ts, typed with DOM listener types); this one types it for a worker_threads
// MessagePort. Build-only: no public declaration refers to it.
declare module "comlink/dist/esm/node-adapter.mjs" {
  import type { MessagePort } from "node:worker_threads";
  import type { Endpoint } from "comlink";

  export default function nodeEndpoint(port: MessagePort): Endpoint;
}
