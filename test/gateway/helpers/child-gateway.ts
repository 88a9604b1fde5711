/**
 * @module Test helper: runs a gateway in a child process that a test can kill. The child's
 * TypeScript entry is bundled with rolldown (a dependency of vitest's vite) into
 * `node_modules/.cache/`, inside the package, so that its bare imports resolve. When a pipeline
 * runs its rules on workers, the worker's entry is bundled too and passed as `workerEntry`.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePartitionWorker } from '../../partition/helpers/worker-bundle.js';
import type { WorkerBundle } from '../../partition/helpers/worker-bundle.js';
import { build } from 'rolldown';
import type { Config } from '../../../gateway/config/index.js';
import type { GatewayStats } from '../../../gateway/gateway.js';

const ENTRY = fileURLToPath(new URL('./gateway-process.ts', import.meta.url));
const CACHE = fileURLToPath(new URL('../../../node_modules/.cache/sluice-test/', import.meta.url));

/** A gateway running in a child process. */
export interface ChildGateway {
  stats(): Promise<GatewayStats>;
  /** Kills the process with SIGKILL (no cleanup of any kind) and waits for it to exit. */
  kill(): Promise<void>;
}

let bundles = 0;

/** Bundles the child's entry into a file of its own (removed once the child loaded it). */
async function bundle(): Promise<string> {
  const file = join(CACHE, `gateway-process-${process.pid}-${bundles++}.mjs`);
  await build({
    input: ENTRY,
    platform: 'node',
    external: (id: string) => !id.startsWith('.') && !id.startsWith('/'),
    // One file: the gateway's lazy imports (API, metrics, NATS) are inlined.
    output: { file, format: 'esm', codeSplitting: false },
    write: true,
    logLevel: 'warn',
  });
  return file;
}

/** Starts a gateway with `config` in a child process; resolves once it is connected. */
export async function startChildGateway(config: Config): Promise<ChildGateway> {
  const file = await bundle();
  const worker: WorkerBundle | undefined = config.pipelines.some((p) => p.workers.count > 0)
    ? await bundlePartitionWorker()
    : undefined;
  const child: ChildProcess = fork(file, [], {
    env: {
      ...process.env,
      SLUICE_TEST_CONFIG: JSON.stringify(config),
      ...(worker === undefined ? {} : { SLUICE_TEST_WORKER_ENTRY: worker.url.href }),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Workers load their entry whenever one is replaced: remove it only once the child is gone.
  void exited.then(() => worker?.remove());
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) =>
        reject(new Error(`the gateway process exited with ${code} before it was ready`)),
      );
    });
  } finally {
    await rm(file, { force: true });
  }
  return {
    stats: () =>
      new Promise((resolve) => {
        const onMessage = (message: { type?: string; stats?: GatewayStats }): void => {
          if (message.type !== 'stats') return;
          child.off('message', onMessage);
          resolve(message.stats as GatewayStats);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
