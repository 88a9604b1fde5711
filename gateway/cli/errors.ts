/**
 * @module Errors of the command line: a usage error exits with status 2 and points to --help.
 */
import { SluiceError } from '../../runtime/index.js';

/** The command line is wrong: unknown command or option, missing or invalid value. */
export class UsageError extends SluiceError {
  readonly code = 'CLI_USAGE';
}

/** The gateway's API answered a `sluice rules` request with an error (or could not be reached). */
export class ApiRequestError extends SluiceError {
  readonly code = 'CLI_API_FAILED';
  /** The API's error code (`RULE_INVALID`, `API_UNAUTHORIZED`…), or `UNREACHABLE`. */
  readonly apiCode: string;
  /** HTTP status, 0 when the gateway could not be reached. */
  readonly status: number;

  constructor(apiCode: string, status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.apiCode = apiCode;
    this.status = status;
  }
}
