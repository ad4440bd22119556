export type { InspectResult, SubscriptionInfo } from "./admin.js";
export { AttachedBus, attach } from "./attach.js";
export type { WorkerBusStats } from "./client.js";
export type { OnFull, WorkerBusOptions } from "./options.js";
export * from "./pool/index.js";
export { RecordTooLargeError } from "./ring.js";
export { osThreadId, taskCpuMs, threadCpuMs } from "./thread_cpu.js";
export { WorkerBus, type WorkerBusHandle } from "./worker_bus.js";
export type { WorkerSubscription } from "./worker_subscription.js";
