/**
 * @module Errors of pipelines.
 */

/** A rule of the configuration cannot be read, compiled or started. */
export class RuleLoadError extends Error {
  override readonly name = 'RuleLoadError';
  readonly code = 'RULE_LOAD_FAILED';
}
