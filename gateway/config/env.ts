/**
 * @module Environment overrides of single configuration keys.
 *
 * - `SLUICE_MQTT_URL`, `SLUICE_DATA_DIR`, `SLUICE_LOG_LEVEL`: shortcuts for the keys most often
 *   set per machine;
 * - `SLUICE__<key>__<key>...=value`: any key, the path segments separated by two underscores,
 *   matched case-insensitively (`SLUICE__mqtt__clientId`, `SLUICE__MQTT__KEEPALIVESECONDS`);
 *   list entries by index (`SLUICE__pipelines__0__sink__url`).
 *
 * The value is text; it is converted to the type the key expects (number, boolean, list as
 * `a,b` or `[a, b]`, mapping as `{...}`) and validated like a value from the file. Shortcuts
 * apply first, then the general form in name order, so the general form wins on a conflict.
 */

import type { ConfigProblem } from './errors.js';

/** Prefix of the general form. */
export const ENV_PREFIX = 'SLUICE__';

/** The shortcut variables and the key each sets. */
export const ENV_SHORTCUTS: Readonly<Record<string, readonly string[]>> = {
  SLUICE_MQTT_URL: ['mqtt', 'url'],
  SLUICE_DATA_DIR: ['dataDir'],
  SLUICE_LOG_LEVEL: ['log', 'level'],
};

/** A value that came from an environment variable, still as text. */
export class EnvValue {
  readonly variable: string;
  readonly text: string;

  constructor(variable: string, text: string) {
    this.variable = variable;
    this.text = text;
  }
}

/** One environment variable that overrides one key. */
export interface EnvOverride {
  readonly variable: string;
  /** Key path as written (not yet matched to the real keys' case). */
  readonly segments: readonly string[];
  readonly value: string;
  /** Set once a reader applied or reported it. */
  used: boolean;
}

/** The overrides found in `env`, and the problems with malformed variable names. */
export function readEnvOverrides(env: Readonly<Record<string, string | undefined>>): {
  overrides: EnvOverride[];
  problems: ConfigProblem[];
} {
  const overrides: EnvOverride[] = [];
  const problems: ConfigProblem[] = [];
  for (const [variable, segments] of Object.entries(ENV_SHORTCUTS)) {
    const value = env[variable];
    if (value !== undefined) overrides.push({ variable, segments, value, used: false });
  }
  const general = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX))
    .sort();
  for (const variable of general) {
    const value = env[variable];
    if (value === undefined) continue;
    const segments = variable.slice(ENV_PREFIX.length).split('__');
    if (segments.some((segment) => segment === '')) {
      problems.push({
        path: '(environment)',
        message:
          `${variable}: is not a key path (expected SLUICE__<key>__<key>..., ` +
          `e.g. SLUICE__mqtt__clientId; separate keys with exactly two underscores)`,
        source: `environment ${variable}`,
      });
      continue;
    }
    overrides.push({ variable, segments, value, used: false });
  }
  return { overrides, problems };
}
