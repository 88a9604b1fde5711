/**
 * @module Errors of the partitioned rule chain (the rule worker pool).
 */
import { SluiceError } from '../../runtime/index.js';

/**
 * A call into a partition's rules overran its time budget (`ruleTimeoutMs`): the worker was
 * terminated and respawned from its last checkpoint, and the events it was given are dead
 * letters with this code.
 */
export class RuleTimeoutError extends SluiceError {
  readonly code = 'RULE_TIMEOUT';
  /** The partition (worker index) that overran. */
  readonly partition: number;
  /** The budget it overran, in milliseconds. */
  readonly timeoutMs: number;

  constructor(partition: number, timeoutMs: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.partition = partition;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A partition's worker died on its own (an uncaught error, out of heap): it was respawned from
 * its last checkpoint, and the events it was given are dead letters with this code.
 */
export class PartitionWorkerExitedError extends SluiceError {
  readonly code = 'PARTITION_WORKER_EXITED';
  /** The partition (worker index) whose worker died. */
  readonly partition: number;

  constructor(partition: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.partition = partition;
  }
}

/** An option of the partitioned chain has a value that cannot work. */
export class PartitionOptionsError extends SluiceError {
  readonly code = 'PARTITION_OPTIONS_INVALID';
}

/** The partitioned chain was used after `close()`, or a call was refused while it closes. */
export class PartitionClosedError extends SluiceError {
  readonly code = 'PARTITION_CLOSED';
}

/** A partition's worker could not start its rules, or refused a snapshot or restore request. */
export class PartitionCallError extends SluiceError {
  readonly code: string;
  /** The partition (worker index). */
  readonly partition: number;

  constructor(partition: number, code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.partition = partition;
    this.code = code;
  }
}
