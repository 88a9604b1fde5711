/**
 * @module Errors of pipelines.
 */
import { SluiceError } from '../../runtime/index.js';

/** A rule of the configuration cannot be read, compiled or started. */
export class RuleLoadError extends SluiceError {
  readonly code = 'RULE_LOAD_FAILED';
}

/** A feature of the gateway thread's rule chain (hot swap, shadow) asked of a pipeline on workers. */
export class PipelineOnWorkersError extends SluiceError {
  readonly code = 'PIPELINE_ON_WORKERS';
}
