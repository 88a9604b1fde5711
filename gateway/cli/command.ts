/**
 * @module The shape of a CLI command, and how errors turn into messages and exit codes.
 */

/** Exit status: success. */
export const EXIT_OK = 0;
/** Exit status: the command failed while running (broker unreachable, port taken...). */
export const EXIT_FAILURE = 1;
/** Exit status: the command line or the configuration is wrong; nothing was started. */
export const EXIT_USAGE = 2;

/** One `sluice <name>` command. Implementations import heavy modules lazily inside `run`. */
export interface Command {
  readonly name: string;
  /** One line for `sluice --help`. */
  readonly summary: string;
  /** The full `sluice <name> --help` text. */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves with the exit status. */
  run(argv: readonly string[]): Promise<number>;
}

const USAGE_CODES = new Set([
  'CLI_USAGE',
  'CONFIG_INVALID',
  'CONFIG_UNREADABLE',
  'SIMULATOR_OPTIONS_INVALID',
  'RULE_BUILD_OPTIONS_INVALID',
]);

/** Prints `error` for a user (no stack unless SLUICE_DEBUG is set) and returns the exit status. */
export function reportError(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`sluice: ${message}\n`);
  if (process.env.SLUICE_DEBUG && error instanceof Error && error.stack)
    process.stderr.write(`${error.stack}\n`);
  return typeof code === 'string' && USAGE_CODES.has(code) ? EXIT_USAGE : EXIT_FAILURE;
}
