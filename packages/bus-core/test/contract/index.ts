import { describe } from "vitest";
import { basicsSuite } from "./basics.js";
import { helpersSuite } from "./helpers.js";
import { overflowSuite } from "./overflow.js";
import { stopSuite } from "./stop.js";
import { stressSuite } from "./stress.js";
import type { ContractSuiteOptions, MakeBus } from "./support.js";

export type { ContractBusOptions, ContractSuiteOptions, MakeBus } from "./support.js";

/**
 * The behaviour every EventBus implementation must show. Run it against a factory:
 * `runContractSuite("Bus", (options) => new Bus(options))`; `options` names what a bus does not
 * implement yet (see ContractSuiteOptions). Errors are checked by `code`, so the
 * suite works whichever copy of @threadbus/core the bus under test was built against.
 */
export function runContractSuite(name: string, makeBus: MakeBus, options: ContractSuiteOptions = {}): void {
  const suite: Required<ContractSuiteOptions> = {
    orderedStop: options.orderedStop ?? true,
    abortPendingSubscribe: options.abortPendingSubscribe ?? true,
  };
  describe(`${name} contract`, () => {
    basicsSuite(makeBus, suite);
    stopSuite(makeBus, suite);
    overflowSuite(makeBus);
    helpersSuite(makeBus, suite);
    stressSuite(makeBus, suite);
  });
}
