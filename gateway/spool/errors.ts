/**
 * @module Errors of the disk spool.
 */
import { SluiceError } from '../../runtime/index.js';

/** A spool option has a value that cannot work. */
export class SpoolOptionsError extends SluiceError {
  readonly code = 'CONFIG_INVALID';
}

/** Writing to the spool failed (disk full, I/O error): the records of the batch are not durable. */
export class SpoolWriteError extends SluiceError {
  readonly code = 'SPOOL_WRITE';
}

/** The spool directory could not be opened or recovered. */
export class SpoolOpenError extends SluiceError {
  readonly code = 'SPOOL_OPEN';
}
