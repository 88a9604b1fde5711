/**
 * @module Errors of the outbox.
 */
import { SluiceError } from '../../runtime/index.js';

/** An outbox option has a value that cannot work. */
export class OutboxOptionsError extends SluiceError {
  readonly code = 'CONFIG_INVALID';
}
