/**
 * @module Public names of the device simulator (`sluice publish`).
 */

export { runSimulator } from './run.js';
export type { SimulatorResult, SimulatorStop } from './run.js';
export { resolveSimulatorOptions } from './options.js';
export type { SimulatorOptions, ResolvedSimulatorOptions, PublishedMessage } from './options.js';
export { INVALID_KINDS } from './fleet.js';
export type { InvalidKind, MessageKind, Reading } from './fleet.js';
export { SimulatorOptionsError, SimulatorConnectError } from './errors.js';
export { formatSimulatorSummary } from './summary.js';
