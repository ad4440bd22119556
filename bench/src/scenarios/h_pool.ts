import type { CaseRecorder, Scenario } from "../scenario.js";
import { Unavailable } from "../scenario.js";
import { loadWorkerModule } from "../subjects/worker_bus.js";

export const poolScenario: Scenario = {
  id: "h-pool",
  title: "CPU-isolated handlers: a subscription feeding a piscina pool",
  measures:
    "Events/s handled by a piscina pool fed by a subscription (subscribePool from @threadbus/worker).",
  async unavailable() {
    try {
      const module = await loadWorkerModule();
      if (typeof module.subscribePool !== "function")
        return "@threadbus/worker does not export subscribePool() yet";
    } catch (error) {
      if (error instanceof Unavailable) return error.message;
      throw error;
    }
    return "subscribePool() exists but this scenario is not written yet";
  },
  async run(_recorder: CaseRecorder) {},
};
