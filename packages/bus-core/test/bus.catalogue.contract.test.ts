import { Bus, type EventBus } from "../src/index.js";
import { runContractSuite } from "./contract/index.js";
import { contractEvents } from "./fixtures/contract_catalogue.js";

runContractSuite(
  "Bus with a catalogue",
  (options) =>
    new Bus({
      ...options,
      events: contractEvents,
      uncatalogued: "allow",
      logger: { warn() {}, error() {} },
    }) as unknown as EventBus,
);
