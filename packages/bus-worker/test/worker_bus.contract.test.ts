import { runContractSuite } from "../../bus-core/test/contract/index.js";
import { WorkerBus } from "../dist/index.js";

runContractSuite("WorkerBus", (options) => WorkerBus.start(options));
