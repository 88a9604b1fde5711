/**
 * @module A gateway in a child process, for tests that kill it (SIGKILL). Reads its resolved
 * configuration from the SLUICE_TEST_CONFIG environment variable, reports `ready` over IPC and
 * answers `stats` requests; SLUICE_TEST_WORKER_ENTRY is the bundled rule worker, if any. Bundled by {@link ./child-gateway.ts} before it is forked.
 */
import { Gateway } from '../../../gateway/gateway.js';
import type { Config } from '../../../gateway/config/index.js';

const config = JSON.parse(process.env['SLUICE_TEST_CONFIG'] ?? '{}') as Config;
const workerEntry = process.env['SLUICE_TEST_WORKER_ENTRY'];
const gateway = await Gateway.start(
  config,
  workerEntry === undefined ? {} : { workerEntry: new URL(workerEntry) },
);
process.on('message', (message: { type?: string }) => {
  if (message.type === 'stats') process.send?.({ type: 'stats', stats: gateway.stats() });
});
process.send?.({ type: 'ready' });
