/**
 * @module Errors of the command line: a usage error exits with status 2 and points to --help.
 */

/** The command line is wrong: unknown command or option, missing or invalid value. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'CLI_USAGE';
}
