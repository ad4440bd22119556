export { Bus } from "./bus.js";
export * from "./catalogue.js";
export type * from "./catalogue_types.js";
export * from "./errors.js";
export * from "./event.js";
export { Awaiter, type AwaitResult, type PrepareOptions, type Waiter } from "./helpers/awaiter.js";
export {
  type EventHandlerObject,
  EventRouter,
  type EventRouterOptions,
  type RoutePattern,
} from "./helpers/event_router.js";
export { type EventHandler, Subscriber, type SubscriberOptions } from "./helpers/subscriber.js";
export * from "./inspection.js";
export * from "./options.js";
export * from "./path_filter.js";
export * from "./pattern.js";
export { PatternWarnings, patternMistake } from "./pattern_warnings.js";
export * from "./shape.js";
export { BufferedSubscription } from "./subscription.js";
export * from "./subscription_index.js";
export type * from "./types.js";
