/**
 * @module Rule building: AssemblyScript rules compiled to `.wasm` (used by `sluice rules build`
 * and the test setup). Loads the compiler lazily.
 */
export {
  DEFAULT_RULE_MEMORY_PAGES,
  DEFAULT_RULE_RUNTIME,
  EXAMPLE_RULES,
  buildExampleRules,
  buildRule,
  exampleRuleFile,
  resolveBuildRuleOptions,
} from './build.js';
export type {
  BuildExampleRulesOptions,
  BuildResult,
  BuildRuleOptions,
  ExampleRuleName,
  ResolvedBuildRuleOptions,
  RuleRuntime,
} from './build.js';
export { meterFuel } from './fuel.js';
export { RuleBuildError, RuleBuildOptionsError, RuleCompilerMissingError } from './errors.js';
