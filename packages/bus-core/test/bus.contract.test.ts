import { Bus } from "../src/index.js";
import { runContractSuite } from "./contract/index.js";

runContractSuite("Bus", (options) => new Bus({ ...options, logger: { warn() {}, error() {} } }));
