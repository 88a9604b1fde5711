/**
 * @module Errors of building AssemblyScript rules (`build.ts`).
 */

/** asc reported errors while compiling a rule; `diagnostics` holds its messages. */
export class RuleBuildError extends Error {
  override readonly name = 'RuleBuildError';
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
export class RuleBuildOptionsError extends Error {
  override readonly name = 'RuleBuildOptionsError';
  readonly code = 'RULE_BUILD_OPTIONS_INVALID';
}

/** The AssemblyScript compiler (the `assemblyscript` dev dependency) is not installed. */
export class RuleCompilerMissingError extends Error {
  override readonly name = 'RuleCompilerMissingError';
  readonly code = 'RULE_COMPILER_MISSING';
}
