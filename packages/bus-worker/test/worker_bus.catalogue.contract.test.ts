import type { EventBus } from "@threadbus/core";
import { runContractSuite } from "../../bus-core/test/contract/index.js";
import { contractEvents } from "../../bus-core/test/fixtures/contract_catalogue.js";
import { WorkerBus } from "../dist/index.js";

runContractSuite(
  "WorkerBus with a catalogue",
  async (options) =>
    (await WorkerBus.start({
      ...options,
      events: contractEvents,
      uncatalogued: "allow",
    })) as unknown as EventBus,
);
