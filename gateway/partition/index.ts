/**
 * @module Public surface of the partitioned rule chain: a pipeline's rules on a pool of worker
 * threads, partitioned by device key, with a time budget per call.
 */
export { PartitionedChain } from './partitioned-chain.js';
export type {
  ChainResult,
  PartitionFigures,
  PartitionMemory,
  PartitionStates,
} from './partitioned-chain.js';
export {
  DEFAULT_MAX_QUEUED_CALLS,
  DEFAULT_RULE_TIMEOUT_MS,
  resolvePartitionedChainOptions,
} from './partitioned-chain-options.js';
export type {
  PartitionedChainOptions,
  PartitionedRule,
  ResolvedPartitionedChainOptions,
} from './partitioned-chain-options.js';
export type { DeviceCommand } from './protocol.js';
export { KeyPartitioner, fnv1a, partitionOfKey } from './key-partitioner.js';
export {
  PartitionCallError,
  PartitionClosedError,
  PartitionOptionsError,
  PartitionWorkerExitedError,
  RuleTimeoutError,
} from './errors.js';
