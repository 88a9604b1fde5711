/**
 * @module Errors of the dead-letter file.
 */
import { SluiceError } from '../../runtime/index.js';

/** The dead-letter file cannot be created or written. */
export class DeadLetterWriteError extends SluiceError {
  readonly code = 'DEAD_LETTER_WRITE_FAILED';
}

/** The dead-letter file cannot be read (for `sluice dlq`). */
export class DeadLetterReadError extends SluiceError {
  readonly code = 'DEAD_LETTER_READ_FAILED';
}
