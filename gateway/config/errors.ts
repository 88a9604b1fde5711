/**
 * @module Errors of the configuration loader. Every problem names the field path, the value
 * and the fix; all problems of one configuration are collected into one `ConfigError`.
 */
import { SluiceError } from '../../runtime/index.js';

/** One problem found in a configuration. */
export interface ConfigProblem {
  /** The field path, as `pipelines[0].sink.lingerMs`; `(root)` for the document itself. */
  readonly path: string;
  /** The full sentence: `<path>: <value> <what is wrong> (<fix>)`. */
  readonly message: string;
  /** Where the value came from: `sluice.yaml:14`, or the environment variable that set it. */
  readonly source?: string;
}

/** The configuration is invalid: the file does not parse, or values are wrong. */
export class ConfigError extends SluiceError {
  readonly code = 'CONFIG_INVALID';
  /** Every problem found, in document order. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], origin?: string, options?: ErrorOptions) {
    super(formatProblems(problems, origin), options);
    this.problems = problems;
  }
}

/** The configuration file cannot be read (missing, a directory, no permission). */
export class ConfigFileError extends SluiceError {
  readonly code = 'CONFIG_UNREADABLE';
  /** The path that was given. */
  readonly path: string;

  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
  }
}

function formatProblems(problems: readonly ConfigProblem[], origin: string | undefined): string {
  const where = origin === undefined ? '' : ` in ${origin}`;
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  let text = `Invalid configuration${where} (${count}):`;
  for (const problem of problems) {
    text += `\n  - ${problem.message}`;
    if (problem.source !== undefined) text += ` [${problem.source}]`;
  }
  return text;
}
