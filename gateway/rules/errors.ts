/**
 * @module Errors of building AssemblyScript rules (`build.ts`).
 */
import { SluiceError } from '../../runtime/index.js';

/** asc reported errors while compiling a rule; `diagnostics` holds its messages. */
export class RuleBuildError extends SluiceError {
  readonly code = 'RULE_BUILD_FAILED';
  /** The rule's entry file. */
  readonly entryFile: string;
  /** asc's diagnostics (errors and warnings), as it prints them, without colors. */
  readonly diagnostics: string;

  constructor(entryFile: string, message: string, diagnostics: string, options?: ErrorOptions) {
    super(message, options);
    this.entryFile = entryFile;
    this.diagnostics = diagnostics;
  }
}

/** `BuildRuleOptions` hold a value that cannot work. */
export class RuleBuildOptionsError extends SluiceError {
  readonly code = 'RULE_BUILD_OPTIONS_INVALID';
}

/** The AssemblyScript compiler (the `assemblyscript` dev dependency) is not installed. */
export class RuleCompilerMissingError extends SluiceError {
  readonly code = 'RULE_COMPILER_MISSING';
}
