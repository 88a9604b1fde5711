/**
 * @module The options of a partitioned chain: worker count, time budget per call, queue bound,
 * the worker's entry module, and their defaults.
 */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { RuleModule } from '../../runtime/index.js';
import { PartitionOptionsError } from './errors.js';

/** Default time budget of one call into a partition's rules, in milliseconds. */
export const DEFAULT_RULE_TIMEOUT_MS = 1000;
/** Default bound of the calls waiting for one partition. */
export const DEFAULT_MAX_QUEUED_CALLS = 16;

/** One rule of a partitioned chain. */
export interface PartitionedRule {
  /** The rule's name (in dead letters, logs and metrics). */
  name: string;
  /** The compiled module (posted to each worker as is, never recompiled). */
  module: RuleModule;
  /** The rule's configuration as CBOR bytes. @default empty */
  config?: Uint8Array;
  /** Fuel per call, for a module metered with `meterFuel` (gateway/rules/fuel.ts). @default none */
  fuel?: number;
}

/** Options of {@link PartitionedChain.start}. */
export interface PartitionedChainOptions {
  pipeline: string;
  /** The rules, in chain order. */
  rules: readonly PartitionedRule[];
  /** Topic of `device` outputs; `{key}` is replaced by the record's key. */
  commandTopic: string;
  /** Worker threads (partitions). @default cores − 1, at least 1 */
  workers?: number;
  /** Time budget of one call (a batch through every rule, a tick, a flush), in ms. @default 1000 */
  ruleTimeoutMs?: number;
  /** Calls that may wait for one partition. @default 16 */
  maxQueuedCalls?: number;
  /**
   * The worker's entry module. @default `partition-worker.js` next to this file (dist). Running
   * from TypeScript sources (vitest), pass a bundle of `partition-worker.ts`: Node 20 cannot
   * load TypeScript in a worker.
   */
  workerEntry?: URL;
  /** Logs worker replacements. @default a silent logger */
  logger?: Logger;
  /** pino level of the workers' own log lines (rule failures). @default the logger's level */
  workerLogLevel?: string;
}

/** `PartitionedChainOptions` with every default filled in. */
export interface ResolvedPartitionedChainOptions {
  pipeline: string;
  rules: readonly PartitionedRule[];
  commandTopic: string;
  workers: number;
  ruleTimeoutMs: number;
  maxQueuedCalls: number;
  workerEntry: URL;
  logger: Logger;
  workerLogLevel: string;
}

/** Fills defaults and checks `PartitionedChainOptions`. */
export function resolvePartitionedChainOptions(
  options: PartitionedChainOptions,
): ResolvedPartitionedChainOptions {
  const workers = options.workers ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new PartitionOptionsError(
      `workers: ${String(workers)} is not a whole number from 1 to 256 (use at most the number of cores)`,
    );
  }
  const ruleTimeoutMs = options.ruleTimeoutMs ?? DEFAULT_RULE_TIMEOUT_MS;
  if (!Number.isFinite(ruleTimeoutMs) || ruleTimeoutMs <= 0) {
    throw new PartitionOptionsError(
      `ruleTimeoutMs: ${String(ruleTimeoutMs)} is not a positive number of milliseconds (e.g. 1000)`,
    );
  }
  const maxQueuedCalls = options.maxQueuedCalls ?? DEFAULT_MAX_QUEUED_CALLS;
  if (!Number.isInteger(maxQueuedCalls) || maxQueuedCalls < 1) {
    throw new PartitionOptionsError(
      `maxQueuedCalls: ${String(maxQueuedCalls)} is not a whole number of at least 1`,
    );
  }
  if (options.rules.length === 0) {
    throw new PartitionOptionsError('rules: the chain has no rule (give at least one)');
  }
  const here = import.meta.url;
  if (options.workerEntry === undefined && here.endsWith('.ts')) {
    throw new PartitionOptionsError(
      `workerEntry: required when running from TypeScript sources (${here}): bundle gateway/partition/partition-worker.ts and pass its URL, or run from dist`,
    );
  }
  const logger = options.logger ?? pino({ level: 'silent' });
  return {
    pipeline: options.pipeline,
    rules: options.rules,
    commandTopic: options.commandTopic,
    workers,
    ruleTimeoutMs,
    maxQueuedCalls,
    workerEntry: options.workerEntry ?? new URL('./partition-worker.js', here),
    logger,
    workerLogLevel: options.workerLogLevel ?? logger.level,
  };
}
