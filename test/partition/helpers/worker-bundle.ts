/**
 * @module Test helper: the partition worker's entry bundled with rolldown (a dependency of
 * vitest's vite) into `node_modules/.cache/`, inside the package so that its bare imports
 * (pino) resolve. Node 20 cannot start a worker from a `.ts` file; from dist the chain finds
 * `partition-worker.js` on its own.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'rolldown';

const ENTRY = fileURLToPath(
  new URL('../../../gateway/partition/partition-worker.ts', import.meta.url),
);
const CACHE = fileURLToPath(new URL('../../../node_modules/.cache/sluice-test/', import.meta.url));

let bundles = 0;

/** A bundled worker entry, and its removal. */
export interface WorkerBundle {
  url: URL;
  remove(): Promise<void>;
}

/** Bundles the partition worker's entry into a file of its own. */
export async function bundlePartitionWorker(): Promise<WorkerBundle> {
  const file = join(CACHE, `partition-worker-${process.pid}-${bundles++}.mjs`);
  await build({
    input: ENTRY,
    platform: 'node',
    external: (id: string) => !id.startsWith('.') && !id.startsWith('/'),
    output: { file, format: 'esm' },
    write: true,
    logLevel: 'warn',
  });
  return { url: pathToFileURL(file), remove: () => rm(file, { force: true }) };
}
