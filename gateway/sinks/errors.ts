/**
 * @module Errors of the sinks.
 */
import { SluiceError } from '../../runtime/index.js';

/** Upstream refused a batch for good (a 4xx other than 408/429): retrying cannot help. */
export class SinkRejectedError extends SluiceError {
  readonly code = 'SINK_REJECTED';
  /** The HTTP status upstream answered. */
  readonly status: number;
  /** The start of the response body (at most 512 characters). */
  readonly body: string;

  constructor(status: number, body: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.body = body;
  }
}

/** A sink option has a value that cannot work. */
export class SinkOptionsError extends SluiceError {
  readonly code = 'CONFIG_INVALID';
}
