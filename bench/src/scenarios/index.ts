import type { Scenario } from "../scenario.js";
import { dispatchScenario } from "./a_dispatch.js";
import { wildcardScenario } from "./b_wildcard.js";
import { matchScenario } from "./c_match.js";
import { crossThreadScenario } from "./d_cross_thread.js";
import { twoPublishersScenario } from "./e_two_publishers.js";
import { latencyScenario } from "./f_latency.js";
import { memoryScenario } from "./g_memory.js";
import { poolScenario } from "./h_pool.js";
import { luaScenario } from "./i_lua.js";
import { scaleScenario } from "./j_scale.js";
import { natsScenario } from "./k_nats.js";
import { monitorScenario } from "./l_monitor.js";
import { pathsScenario } from "./n_paths.js";
import { sendCostScenario } from "./s_send_cost.js";

/** Every scenario, in the order they run and are reported. */
export const scenarios: readonly Scenario[] = [
  dispatchScenario,
  wildcardScenario,
  matchScenario,
  crossThreadScenario,
  twoPublishersScenario,
  latencyScenario,
  memoryScenario,
  poolScenario,
  luaScenario,
  scaleScenario,
  natsScenario,
  monitorScenario,
  pathsScenario,
  sendCostScenario,
];
