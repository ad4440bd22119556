import { describe } from "vitest";
import { basicsSuite } from "./basics.js";
import { helpersSuite } from "./helpers.js";
import { overflowSuite } from "./overflow.js";
import { stressSuite } from "./stress.js";
import type { MakeBus } from "./support.js";

export type { ContractBusOptions, MakeBus } from "./support.js";

/**
 * The behaviour every EventBus implementation must show. Run it against a factory:
 * `runContractSuite("Bus", (options) => new Bus(options))`. Errors are checked by `code`, so the
 * suite works whichever copy of @threadbus/core the bus under test was built against.
 */
export function runContractSuite(name: string, makeBus: MakeBus): void {
  describe(`${name} contract`, () => {
    basicsSuite(makeBus);
    overflowSuite(makeBus);
    helpersSuite(makeBus);
    stressSuite(makeBus);
  });
}
