export type { PoolSubscribeOptions, PoolThreadOptions } from "./options.js";
export type { PoolOutcome } from "./outcome.js";
export { PoolSubscription, type PoolSubscriptionStats } from "./pool_subscription.js";
export { subscribePool } from "./subscribe_pool.js";
