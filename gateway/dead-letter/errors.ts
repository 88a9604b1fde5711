/**
 * @module Errors of the dead-letter file.
 */

/** The dead-letter file cannot be created or written. */
export class DeadLetterWriteError extends Error {
  override readonly name = 'DeadLetterWriteError';
  readonly code = 'DEAD_LETTER_WRITE_FAILED';
}
