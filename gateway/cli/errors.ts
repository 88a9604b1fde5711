/**
 * @module Errors of the command line: a usage error exits with status 2 and points to --help.
 */
import { SluiceError } from '../../runtime/index.js';

/** The command line is wrong: unknown command or option, missing or invalid value. */
export class UsageError extends SluiceError {
  readonly code = 'CLI_USAGE';
}
