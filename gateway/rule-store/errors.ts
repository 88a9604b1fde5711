/**
 * @module Errors of the rule store and of upload validation. Each carries a stable `code`; the
 * HTTP layer maps codes to status codes in one place (`gateway/http/error-status.ts`).
 */
import { SluiceError } from '../../runtime/index.js';

/** A rule name is not usable (empty, too long, or with characters outside `[A-Za-z0-9._-]`). */
export class RuleNameInvalidError extends SluiceError {
  readonly code = 'RULE_NAME_INVALID';
}

/** No rule of that name is stored. */
export class RuleNotFoundError extends SluiceError {
  readonly code = 'RULE_NOT_FOUND';
}

/** The rule exists but not that version. */
export class RuleVersionNotFoundError extends SluiceError {
  readonly code = 'RULE_VERSION_NOT_FOUND';
}

/** A version cannot be deleted while a running pipeline uses its module. */
export class RuleVersionInUseError extends SluiceError {
  readonly code = 'RULE_VERSION_IN_USE';
}

/** The store's index on disk cannot be read (corrupt JSON, a module file missing). */
export class RuleStoreCorruptError extends SluiceError {
  readonly code = 'RULE_STORE_CORRUPT';
}

/** Why the dry run of an uploaded rule's `init` failed. */
export type RuleDryRunReason =
  'INSTANTIATE_FAILED' | 'INIT_TRAP' | 'INIT_REFUSED' | 'INIT_TIMEOUT' | 'INIT_ABI';

/** The dry run of `init` (with the given configuration, in a worker thread) failed. */
export class RuleDryRunError extends SluiceError {
  readonly code = 'RULE_DRY_RUN_FAILED';
  readonly reason: RuleDryRunReason;

  constructor(reason: RuleDryRunReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** The rule configuration given with an upload is not a JSON object. */
export class RuleConfigInvalidError extends SluiceError {
  readonly code = 'RULE_CONFIG_INVALID';
}

/** A module signature is missing or does not verify against `api.signingKey`. */
export class RuleSignatureError extends SluiceError {
  readonly code = 'RULE_SIGNATURE_INVALID';
}
