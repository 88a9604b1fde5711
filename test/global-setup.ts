/**
 * @module Builds the example AssemblyScript rules once before the tests run, into
 * `dist/rules/<name>.wasm`, plus the test-only rules of `filters/test-rules/` into
 * `dist/test-rules/<name>.wasm` (and window-stats built with the incremental runtime, for
 * comparison); a `.wasm` newer than its sources is kept. (AssemblyScript files
 * live under `filters/`, which `tsconfig.json` excludes: tsc cannot type-check them.)
 */
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExampleRules, buildRule, exampleRuleFile } from '../gateway/rules/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Vitest global setup: builds what is stale, one rule after the other (asc is single-threaded). */
export async function setup(): Promise<void> {
  await buildExampleRules(join(root, 'dist', 'rules'));
  const testRules = join(root, 'filters', 'test-rules');
  const names = (await readdir(testRules)).filter((n) => n.endsWith('.ts'));
  for (const name of names) {
    const out = join(root, 'dist', 'test-rules', `${basename(name, '.ts')}.wasm`);
    await buildRule(join(testRules, name), out, { onlyIfStale: true });
  }
  // window-stats with the other collector, for the runtime comparison (perf and memory tests).
  const incremental = join(root, 'dist', 'test-rules', 'window-stats-incremental.wasm');
  await buildRule(exampleRuleFile('window-stats'), incremental, {
    runtime: 'incremental',
    onlyIfStale: true,
  });
}
