/**
 * @module The types a pipeline (pipeline.ts) is built from and reports: its options, the durable
 * store of its rule-state checkpoints, and what a hot swap did.
 */
import type { Logger } from 'pino';
import type { RuleInstance } from '../../runtime/index.js';
import type { PipelineConfig } from '../config/types.js';
import type { DeadLetterFile } from '../dead-letter/dead-letter-file.js';
import type { AckGate } from '../ingest/ack-gate.js';
import type { Outbox } from '../outbox/outbox.js';
import type { CheckpointSource, RestoredCheckpoint } from '../spool/spool-state.js';
import type { ChainRunner } from './chain-runner.js';
import type { Counters } from './counters.js';
import type { EventIds } from './event-ids.js';

/** Options of a `Pipeline`. */
export interface PipelineOptions {
  /** The pipeline's resolved configuration (batching, format, command topic, tick interval). */
  config: PipelineConfig;
  /** Instances of the configured rules, in order (on the gateway thread; ignored with `runner`). */
  rules: readonly RuleInstance[];
  /** Where the rules run instead, e.g. a started `PoolChainRunner`. @default `rules` on the gateway thread */
  runner?: ChainRunner;
  outbox: Outbox;
  gate: AckGate;
  ids: EventIds;
  deadLetters: DeadLetterFile;
  counters: Counters;
  /** Publishes a device command (QoS 1). */
  publishCommand: (topic: string, payload: Uint8Array) => void;
  /** Called when the pipeline can take events again after refusing one. */
  onRoom: () => void;
  /** Where rule-state checkpoints go (the pipeline's spool); none with the memory outbox. */
  checkpoints?: CheckpointStore;
  /** Identities of checkpointed events kept for recognising redeliveries. @default 65535 */
  identityWindow?: number;
  logger: Logger;
}

/** A durable store of rule-state checkpoints: the disk spool. */
export interface CheckpointStore {
  setCheckpointSource(source: CheckpointSource): void;
  /** Resolves once a state entry captured after the call is durable. */
  checkpoint(): Promise<void>;
  /** The newest checkpoint found on open (the rules were restored from it by the caller). */
  readonly restoredCheckpoint: RestoredCheckpoint | undefined;
}

/** What `Pipeline.swapRule` did. */
export interface RuleSwap {
  /** The instance that was replaced. */
  previous: RuleInstance;
  /** `state`: the new instance took the old one's state; `flushed`: it refused, the old one was flushed. */
  handover: 'state' | 'flushed';
  /** Size of the handed-over snapshot. */
  stateBytes: number;
  /** Time from the start of the handover to the swap, in milliseconds. */
  swapMs: number;
}
