export * from "./errors.js";
export * from "./event.js";
export * from "./path_filter.js";
export * from "./pattern.js";
export * from "./subscription_index.js";
export type * from "./types.js";
