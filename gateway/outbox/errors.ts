/**
 * @module Errors of the outbox.
 */

/** An outbox option has a value that cannot work. */
export class OutboxOptionsError extends Error {
  override readonly name = 'OutboxOptionsError';
  readonly code = 'CONFIG_INVALID';
}
