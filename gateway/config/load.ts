/**
 * @module `loadConfig`: reads a YAML or JSON configuration file (or none), applies environment
 * overrides and resolves it into a complete `Config`. Messages point at the file and line.
 */

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigPath } from './check.js';
import { ConfigError, ConfigFileError, type ConfigProblem } from './errors.js';
import { resolveConfig } from './resolve.js';
import type { Config } from './types.js';

/** Environment variable naming the configuration file when no path is given. */
export const CONFIG_PATH_ENV = 'SLUICE_CONFIG';

/**
 * Loads the configuration at `path` (YAML or JSON, told apart by content; an empty file means
 * all defaults). Without a path, `SLUICE_CONFIG` names the file; without either, every default
 * applies. Environment overrides in `env` are applied (see `docs/configuration.md`). Relative
 * paths in the file are resolved against the file's directory.
 * @throws ConfigFileError when the file cannot be read.
 * @throws ConfigError listing every problem (syntax or values).
 */
export async function loadConfig(
  path?: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<Config> {
  const file = path ?? (env[CONFIG_PATH_ENV] === '' ? undefined : env[CONFIG_PATH_ENV]);
  if (file === undefined) return resolveConfig(undefined, env);
  const text = await readText(file);
  const { raw, locate } = parseConfigText(text, file);
  return resolveConfig(raw, env, { baseDir: dirname(resolve(file)), locate, origin: file });
}

/**
 * Parses configuration text (YAML, or JSON, which YAML 1.2 reads as well) and returns the plain
 * value with a function that maps a key path to `file:line`.
 * @throws ConfigError on a syntax error, with its line and column.
 */
export function parseConfigText(
  text: string,
  origin = 'config',
): { raw: unknown; locate: (path: ConfigPath) => string | undefined } {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const format = /^\s*[{[]/.test(source) ? 'JSON' : 'YAML';
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const problems: ConfigProblem[] = doc.errors.map((error) => {
      const at = error.linePos?.[0];
      const where = at === undefined ? origin : `${origin}:${at.line}:${at.col}`;
      const reason = (error.message.split('\n')[0] ?? '').replace(
        / at line \d+, column \d+:?$/,
        '',
      );
      return {
        path: '(file)',
        message: `${where}: ${format} syntax error: ${reason}`,
      };
    });
    throw new ConfigError(problems, origin);
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 1000 });
  const locate = (path: ConfigPath): string | undefined => {
    const offset = findOffset(doc, path);
    return offset === undefined ? undefined : `${origin}:${lineCounter.linePos(offset).line}`;
  };
  return { raw, locate };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'does not exist (check the path given to --config or SLUICE_CONFIG; without a file every default applies)'
        : code === 'EISDIR'
          ? 'is a directory (give the path of a .yaml or .json file)'
          : code === 'EACCES'
            ? 'cannot be read: permission denied'
            : `cannot be read (${(error as Error).message})`;
    throw new ConfigFileError(file, `config file "${file}" ${reason}`, { cause: error });
  }
}

/** Offset in the source of the key (or list item) at `path`, if it is in the file. */
function findOffset(doc: Document, path: ConfigPath): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as Node | null)?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => (item.key as { value?: unknown } | null)?.value === segment,
      );
      if (pair === undefined) return offset;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      offset = (node as Node | null)?.range?.[0] ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}
