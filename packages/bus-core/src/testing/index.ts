export { type EventShape, Watcher } from "./watcher.js";
