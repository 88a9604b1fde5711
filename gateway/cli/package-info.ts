/**
 * @module Where this package is installed and its version (for --version and the default
 * output directory of the example rules).
 */

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string } | undefined;

/** The package root (the nearest directory above this file with Sluice's package.json). */
export function packageInfo(): { root: string; version: string } {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (json.name === 'sluice') {
        cached = { root: dir, version: json.version ?? '0.0.0' };
        return cached;
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`cannot find Sluice's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
