export { configDigest, serialiseConfig } from './config/config-file.js';
export type { AgentMode, GuestStatus, GuestType, SimGuest, SimNode } from './model.js';
export { ENDPOINT_KINDS } from './routes/api-routes.js';
export { EDGE_CASE_NAMES } from './scenario/edge-cases.js';
export { generateScenario, type Scenario, type ScenarioOptions } from './scenario/generate.js';
export { type PveSim, type PveSimOptions, startPveSim } from './start.js';
export type { FaultSettings } from './state/faults.js';
export type { GuestPatch } from './state/guest-patch.js';
export type { GuestSummary } from './state/guest-summary.js';
export type { StatsSnapshot } from './state/request-stats.js';
export {
  type NewGuest,
  type NodeSummary,
  SimState,
  type SimTiming,
} from './state/sim-state.js';
export { certificateFingerprint } from './tls.js';
export { type PveVersion, parsePveVersion } from './version.js';
