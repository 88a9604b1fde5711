/**
 * @module Errors of pipelines.
 */
import { SluiceError } from '../../runtime/index.js';

/** A rule of the configuration cannot be read, compiled or started. */
export class RuleLoadError extends SluiceError {
  readonly code = 'RULE_LOAD_FAILED';
}
