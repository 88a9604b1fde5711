/**
 * @module Errors of the rule runtime, and `SluiceError`, the base of every Sluice error: every
 * failure carries a stable string `code` (and, for validation, a `reason`) so callers branch on
 * codes, never on messages.
 */

/** Why a rule module was refused at load time. */
export type RuleValidationReason =
  | 'NOT_WASM'
  | 'UNSUPPORTED_VERSION'
  | 'COMPONENT_NOT_SUPPORTED'
  | 'MALFORMED'
  | 'TOO_LARGE'
  | 'MISSING_EXPORT'
  | 'EXPORT_SIGNATURE'
  | 'UNEXPECTED_IMPORT'
  | 'IMPORT_SIGNATURE'
  | 'MEMORY_UNBOUNDED'
  | 'MEMORY_TOO_LARGE'
  | 'MEMORY_UNSUPPORTED'
  | 'COMPILE_FAILED';

/** The call into a rule that failed. */
export type RuleCall =
  'instantiate' | 'init' | 'process' | 'tick' | 'flush' | 'snapshot' | 'restore' | 'cabi_realloc';

/**
 * Base of every Sluice error: `name` is the subclass's name, `code` the stable string a
 * subclass sets (callers branch on it, never on the message), and `options.cause` is kept.
 */
export abstract class SluiceError extends Error {
  override readonly name: string;
  /** Stable machine-readable code, e.g. `RULE_TRAP` or `CONFIG_INVALID`. */
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A runtime option has a value that cannot work (wrong type, out of range). */
export class RuntimeOptionsError extends SluiceError {
  readonly code = 'RUNTIME_OPTIONS_INVALID';
}

/** The bytes are not a well-formed WebAssembly binary (raised by the binary reader). */
export class WasmBinaryError extends SluiceError {
  readonly code = 'WASM_MALFORMED';
  /** Byte offset in the binary where reading failed. */
  readonly offset: number;

  constructor(message: string, offset: number, options?: ErrorOptions) {
    super(message, options);
    this.offset = offset;
  }
}

/** A rule module was refused at load time; `reason` says which check failed. */
export class RuleValidationError extends SluiceError {
  readonly code = 'RULE_INVALID';
  readonly reason: RuleValidationReason;

  constructor(reason: RuleValidationReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/** A rule could not be instantiated, or its `init` refused its configuration. */
export class RuleInitError extends SluiceError {
  readonly code = 'RULE_INIT_FAILED';
  /** The rule's name. */
  readonly rule: string;
  /** The message the rule returned from `init`, when it returned one. */
  readonly ruleMessage: string | undefined;

  constructor(rule: string, message: string, ruleMessage?: string, options?: ErrorOptions) {
    super(message, options);
    this.rule = rule;
    this.ruleMessage = ruleMessage;
  }
}

/**
 * A call into a rule failed and its instance was discarded; `rule` and `call` say which.
 * Shared by `RuleTrapError` and `RuleOutputInvalidError`.
 */
export abstract class RuleCallError extends SluiceError {
  /** The rule's name. */
  readonly rule: string;
  /** The call into the rule that failed. */
  readonly call: RuleCall;

  constructor(rule: string, call: RuleCall, message: string, options?: ErrorOptions) {
    super(message, options);
    this.rule = rule;
    this.call = call;
  }
}

/**
 * A rule trapped (`unreachable`, out-of-bounds access, abort, out of memory, stack overflow).
 * The instance that trapped is discarded; the next call re-creates it.
 */
export class RuleTrapError extends RuleCallError {
  readonly code = 'RULE_TRAP';
}

/**
 * A rule broke the ABI contract: it returned a pointer or length outside its memory, or a
 * result discriminant other than ok/err. The instance is discarded like after a trap.
 */
export class RuleOutputInvalidError extends RuleCallError {
  readonly code = 'RULE_OUTPUT_INVALID';
}

/** A rule's `restore` refused a state (it returned an error). */
export class RuleRestoreError extends SluiceError {
  readonly code = 'RULE_RESTORE_FAILED';
  readonly rule: string;
  /** The message the rule returned from `restore`. */
  readonly ruleMessage: string;

  constructor(rule: string, message: string, ruleMessage: string, options?: ErrorOptions) {
    super(message, options);
    this.rule = rule;
    this.ruleMessage = ruleMessage;
  }
}

/** A frame is malformed (bad magic, count or lengths); nothing of it was read out of range. */
export class FrameFormatError extends SluiceError {
  readonly code = 'FRAME_INVALID';
  /** Byte offset in the frame where the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number, options?: ErrorOptions) {
    super(message, options);
    this.offset = offset;
  }
}

/** One event can never fit in a frame (its record exceeds `maxBytes`, or a key/topic exceeds 65535 bytes). */
export class FrameEventTooLargeError extends SluiceError {
  readonly code = 'FRAME_EVENT_TOO_LARGE';
}
