/**
 * @module Argument parsing for the commands, on `node:util` `parseArgs`, with messages that
 * name the wrong flag or value and point to `--help`.
 */

import { parseArgs } from 'node:util';
import { suggest } from '../config/suggest.js';
import { UsageError } from './errors.js';

/** A flag a command accepts. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
}

/** Flags by long name (without `--`). */
export type FlagSpecs = Record<string, FlagSpec>;

/** Parsed flags and positionals of one command. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` for `sluice <command>`; `--help`/`-h` is always accepted.
 * @throws UsageError naming the unknown flag (with a suggestion) or the extra argument.
 */
export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  flags: FlagSpecs,
  maxPositionals = 0,
): ParsedArgs {
  const options: FlagSpecs = { ...flags, help: { type: 'boolean', short: 'h' } };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw usageFromParseError(command, error, Object.keys(options));
  }
  if (parsed.positionals.length > maxPositionals && parsed.values.help !== true) {
    const extra = parsed.positionals[maxPositionals] ?? '';
    throw new UsageError(
      `unexpected argument "${extra}" for "sluice ${command}" (see sluice ${command} --help)`,
    );
  }
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

function usageFromParseError(command: string, error: unknown, known: string[]): UsageError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  // Node says "Option '-p, --port <value>' argument missing" or "Unknown option '--rat'".
  const flag = /'(?:-\w, )?(-[^' ]*)/.exec(message)?.[1] ?? '';
  const help = `see sluice ${command} --help`;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const hint = flag.startsWith('--') ? suggest(flag.slice(2), known) : undefined;
    return new UsageError(
      `unknown option ${flag} for "sluice ${command}" (${hint === undefined ? '' : `did you mean --${hint}? `}${help})`,
    );
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return message.includes('argument missing')
      ? new UsageError(`option ${flag} needs a value (${help})`)
      : new UsageError(`option ${flag} takes no value (${help})`);
  }
  return new UsageError(`${message} (${help})`);
}

/** Reads a numeric flag. @throws UsageError naming the flag, the value and the range. */
export function numberFlag(
  values: ParsedArgs['values'],
  name: string,
  range: { min: number; max?: number; integer?: boolean; what?: string },
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  const value = text === '' ? Number.NaN : Number(text);
  const integer = range.integer ?? true;
  const bounds = range.max === undefined ? `≥ ${range.min}` : `from ${range.min} to ${range.max}`;
  const expected = `${range.what ?? (integer ? 'a whole number' : 'a number')} ${bounds}`;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `--${name}: "${text}" is not ${integer ? 'a whole number' : 'a number'} (expected ${expected})`,
    );
  }
  if (value < range.min || (range.max !== undefined && value > range.max)) {
    throw new UsageError(`--${name}: ${text} is out of range (expected ${expected})`);
  }
  return value;
}

/** Reads a flag that must be one of `choices`. @throws UsageError */
export function choiceFlag<T extends string>(
  values: ParsedArgs['values'],
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const text = String(raw);
  const found = choices.find((choice) => choice === text);
  if (found === undefined) {
    throw new UsageError(`--${name}: "${text}" is not one of ${choices.join(', ')}`);
  }
  return found;
}

/** Reads a string flag. */
export function stringFlag(values: ParsedArgs['values'], name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}
