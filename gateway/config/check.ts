/**
 * @module The value readers the resolver builds a configuration with. Each reader takes the raw
 * value at a path (from the file, an environment variable, or absent), returns the checked
 * value or the default, and records a problem naming the path, the value and the fix instead of
 * throwing, so that all problems are reported together.
 */

import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ConfigProblem } from './errors.js';
import { EnvValue, type EnvOverride } from './env.js';
import { suggest } from './suggest.js';

/** A path into the configuration: keys and list indices. */
export type ConfigPath = readonly (string | number)[];

/** `pipelines[0].sink.lingerMs`; `(root)` for the empty path. */
export function formatPath(path: ConfigPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text === '' ? '(root)' : text;
}

/** A value as it appears in a message: JSON-like, cut after 60 characters. */
export function renderValue(value: unknown): string {
  if (value instanceof EnvValue) return renderValue(value.text);
  if (value === undefined) return 'missing';
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? '');
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Options of a `ConfigChecker`. */
export interface ConfigCheckerOptions {
  /** Environment overrides still to apply. @default [] */
  overrides?: EnvOverride[];
  /** Where a path is in the source file (`sluice.yaml:12`). @default undefined */
  locate?: (path: ConfigPath) => string | undefined;
  /** Directory relative paths from the file are resolved against. @default undefined (left as written) */
  baseDir?: string;
}

/** Options of `ConfigChecker.int`. */
export interface IntRange {
  min: number;
  max?: number;
  /** Unit named in the message: `milliseconds`, `bytes`. */
  unit?: string;
  /** Said after the range: `0 picks a free port`. */
  note?: string;
}

/** Collects problems while reading raw values; see the module comment. */
export class ConfigChecker {
  readonly problems: ConfigProblem[] = [];
  readonly #overrides: EnvOverride[];
  readonly #locate: ((path: ConfigPath) => string | undefined) | undefined;
  readonly #baseDir: string | undefined;

  constructor(options: ConfigCheckerOptions = {}) {
    this.#overrides = options.overrides ?? [];
    this.#locate = options.locate;
    this.#baseDir = options.baseDir;
  }

  /** Records a problem; `text` follows `<path>: ` and should name the value and the fix. */
  report(path: ConfigPath, text: string, raw?: unknown): void {
    const source = raw instanceof EnvValue ? `environment ${raw.variable}` : this.#locate?.(path);
    const problem: ConfigProblem = {
      path: formatPath(path),
      message: `${formatPath(path)}: ${text}`,
    };
    this.problems.push(source === undefined ? problem : { ...problem, source });
  }

  /** A mapping with a fixed set of keys; unknown keys are reported with a suggestion. */
  section(path: ConfigPath, raw: unknown, keys: readonly string[]): Record<string, unknown> {
    const value = this.#mapping(path, raw, `expected a mapping with the keys ${keys.join(', ')}`);
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (keys.includes(key)) {
        result[key] = item;
        continue;
      }
      const hint = suggest(key, keys);
      this.report(
        [...path, key],
        hint === undefined
          ? `unknown key (known keys here: ${keys.join(', ')})`
          : `unknown key (did you mean "${hint}"?)`,
      );
    }
    for (const override of this.#pending(path)) {
      const segment = override.segments[path.length] ?? '';
      const key = keys.find((candidate) => candidate.toLowerCase() === segment.toLowerCase());
      if (key === undefined) {
        override.used = true;
        const hint = suggest(segment, keys);
        this.report(
          [...path, segment],
          hint === undefined
            ? `unknown key (known keys here: ${keys.join(', ')})`
            : `unknown key (did you mean "${hint}"?)`,
          new EnvValue(override.variable, override.value),
        );
      } else if (override.segments.length === path.length + 1) {
        override.used = true;
        result[key] = new EnvValue(override.variable, override.value);
      }
    }
    return result;
  }

  /** A mapping with free keys (headers, rule parameters). */
  record(path: ConfigPath, raw: unknown, what: string): Record<string, unknown> {
    const value = this.#mapping(path, raw, `expected a mapping of ${what}`);
    const result: Record<string, unknown> = { ...value };
    for (const override of this.#pending(path)) {
      if (override.segments.length !== path.length + 1) continue;
      override.used = true;
      result[override.segments[path.length] ?? ''] = new EnvValue(
        override.variable,
        override.value,
      );
    }
    return result;
  }

  /**
   * A list; a single scalar counts as a list of one. Environment text is `a,b` or `[a, b]`.
   * Absent → `fallback` (whose entries environment overrides can then address by index).
   */
  list(path: ConfigPath, raw: unknown, what: string, fallback?: unknown[]): unknown[] | undefined {
    let value = raw;
    if (value instanceof EnvValue) {
      const text = value.text.trim();
      value = text.startsWith('[')
        ? this.#parseEnv(path, value)
        : text
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item !== '');
    }
    let items: unknown[] | undefined;
    if (value === undefined || value === null) items = undefined;
    else if (Array.isArray(value)) items = value;
    else if (typeof value === 'string') items = [value];
    else this.report(path, `${renderValue(raw)} is not a list (expected a list of ${what})`, raw);
    items ??= fallback;
    for (const override of this.#pending(path)) {
      const segment = override.segments[path.length] ?? '';
      const index = /^\d+$/.test(segment) ? Number(segment) : -1;
      const count = items?.length ?? 0;
      if (index >= 0 && index < count) continue;
      override.used = true;
      this.report(
        [...path, index < 0 ? segment : index],
        index < 0
          ? `"${segment}" is not a list index (expected a number: ${override.variable.replace(segment, '0')})`
          : `there is no entry ${index} (${formatPath(path)} has ${count}; set the whole list in the file instead)`,
        new EnvValue(override.variable, override.value),
      );
    }
    return items;
  }

  /** A string; numbers and booleans are refused so that `0123` or `yes` never change silently. */
  string(path: ConfigPath, raw: unknown, fallback: string, nonEmpty = true): string {
    if (raw === undefined || raw === null) return fallback;
    if (raw instanceof EnvValue) return this.#nonEmpty(path, raw.text, raw, fallback, nonEmpty);
    if (typeof raw === 'string') return this.#nonEmpty(path, raw, raw, fallback, nonEmpty);
    if (typeof raw === 'number' || typeof raw === 'boolean') {
      this.report(path, `${renderValue(raw)} is not a string (quote it: "${String(raw)}")`);
    } else {
      this.report(path, `${renderValue(raw)} is not a string (expected text)`);
    }
    return fallback;
  }

  /** An optional string: absent stays undefined. */
  optionalString(path: ConfigPath, raw: unknown): string | undefined {
    if (raw === undefined || raw === null) return undefined;
    const value = this.string(path, raw, '');
    return value === '' ? undefined : value;
  }

  /** A file or directory path; relative paths from the file are resolved against its directory. */
  filePath(path: ConfigPath, raw: unknown, fallback: string): string {
    const value = this.string(path, raw, fallback);
    if (
      this.#baseDir !== undefined &&
      typeof raw === 'string' &&
      value === raw &&
      !isAbsolute(raw)
    ) {
      return resolve(this.#baseDir, raw);
    }
    return value;
  }

  /** A whole number within a range. */
  int(path: ConfigPath, raw: unknown, fallback: number, range: IntRange): number {
    if (raw === undefined || raw === null) return fallback;
    const expected = describeRange(range);
    let value: unknown = raw;
    if (raw instanceof EnvValue) {
      const text = raw.text.trim();
      value = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : raw.text;
    }
    if (typeof value !== 'number') {
      this.report(path, `${renderValue(raw)} is not a number (expected ${expected})`, raw);
      return fallback;
    }
    if (!Number.isInteger(value)) {
      this.report(path, `${renderValue(value)} is not a whole number (expected ${expected})`, raw);
      return fallback;
    }
    if (value < range.min || (range.max !== undefined && value > range.max)) {
      this.report(path, `${value} is out of range (expected ${expected})`, raw);
      return fallback;
    }
    return value;
  }

  /** true or false (from the environment also 1/0, yes/no, on/off). */
  bool(path: ConfigPath, raw: unknown, fallback: boolean): boolean {
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw === 'boolean') return raw;
    if (raw instanceof EnvValue) {
      const text = raw.text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(text)) return true;
      if (['false', '0', 'no', 'off'].includes(text)) return false;
    }
    this.report(path, `${renderValue(raw)} is not true or false (expected true or false)`, raw);
    return fallback;
  }

  /** One of a fixed set of values; `what` names the kind (`a log level`). */
  choice<T extends string | number>(
    path: ConfigPath,
    raw: unknown,
    fallback: T,
    values: readonly T[],
    what: string,
  ): T {
    if (raw === undefined || raw === null) return fallback;
    let value: unknown = raw;
    if (raw instanceof EnvValue) {
      const text = raw.text.trim();
      value = typeof values[0] === 'number' && /^\d+$/.test(text) ? Number(text) : text;
    }
    const found = values.find((candidate) => candidate === value);
    if (found !== undefined) return found;
    const hint = suggest(String(value), values.map(String));
    const did =
      hint === undefined || typeof values[0] === 'number' ? '' : `; did you mean "${hint}"?`;
    this.report(
      path,
      `${renderValue(raw)} is not ${what} (expected ${values.map((v) => String(v)).join(', ')}${did})`,
      raw,
    );
    return fallback;
  }

  /** A JSON-compatible value (rule parameters); environment text is parsed as YAML. */
  plain(path: ConfigPath, raw: unknown): unknown {
    return raw instanceof EnvValue ? this.#parseEnv(path, raw) : raw;
  }

  /** Whether environment overrides target keys below `path` (so an absent section is created). */
  hasOverrides(path: ConfigPath): boolean {
    return this.#pending(path).length > 0;
  }

  /** Reports environment overrides no reader applied (they name no key). */
  finish(): void {
    for (const override of this.#overrides) {
      if (override.used) continue;
      override.used = true;
      this.problems.push({
        path: override.segments.join('.'),
        message:
          `${override.variable}: ${override.segments.join('.')} names no setting ` +
          `(a key in the path holds a single value, not a mapping; see docs/configuration.md)`,
        source: `environment ${override.variable}`,
      });
    }
  }

  #mapping(path: ConfigPath, raw: unknown, expected: string): Record<string, unknown> {
    const value = raw instanceof EnvValue ? this.#parseEnv(path, raw) : raw;
    if (value === undefined || value === null) return {};
    if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    this.report(path, `${renderValue(raw)} is not a mapping (${expected})`, raw);
    return {};
  }

  #pending(path: ConfigPath): EnvOverride[] {
    return this.#overrides.filter(
      (override) =>
        !override.used &&
        override.segments.length > path.length &&
        path.every(
          (segment, i) => String(segment).toLowerCase() === override.segments[i]?.toLowerCase(),
        ),
    );
  }

  #parseEnv(path: ConfigPath, raw: EnvValue): unknown {
    try {
      return parseYaml(raw.text) as unknown;
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      this.report(path, `${renderValue(raw)} does not parse (${reason})`, raw);
      return undefined;
    }
  }

  #nonEmpty(
    path: ConfigPath,
    value: string,
    raw: unknown,
    fallback: string,
    nonEmpty: boolean,
  ): string {
    if (nonEmpty && value.trim() === '') {
      this.report(
        path,
        `"" is empty (remove the key to use the default ${renderValue(fallback)})`,
        raw,
      );
      return fallback;
    }
    return value;
  }
}

function describeRange(range: IntRange): string {
  const unit = range.unit === undefined ? '' : ` of ${range.unit}`;
  const note = range.note === undefined ? '' : `; ${range.note}`;
  if (range.max === undefined) return `a whole number${unit} ≥ ${range.min}${note}`;
  return `a whole number${unit} from ${range.min} to ${range.max}${note}`;
}
