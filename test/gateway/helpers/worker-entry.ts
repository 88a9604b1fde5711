/**
 * @module Test helper: the rule worker's entry, bundled once per suite (Node 20 cannot start a
 * worker from the TypeScript sources the tests run from), for gateways whose pipelines have
 * `workers.count` > 0.
 */
import { afterAll, beforeAll } from 'vitest';
import { bundlePartitionWorker } from '../../partition/helpers/worker-bundle.js';
import type { WorkerBundle } from '../../partition/helpers/worker-bundle.js';

/** Bundles the worker entry before the suite and removes it after; the accessor gives its URL. */
export function useWorkerEntry(): () => URL {
  let bundle: WorkerBundle | undefined;
  beforeAll(async () => {
    bundle = await bundlePartitionWorker();
  });
  afterAll(async () => {
    await bundle?.remove();
  });
  return () => {
    if (bundle === undefined) throw new Error('the worker entry is not bundled (outside a test?)');
    return bundle.url;
  };
}
