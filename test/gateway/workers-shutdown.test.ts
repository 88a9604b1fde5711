/**
 * Graceful shutdown of a gateway whose rules run on worker threads: `Gateway.close()`, and
 * `sluice start` on SIGTERM, stop ingest, let the batch in the pool finish, process what was
 * batched, flush every rule (the open windows reach upstream), stop the workers and return (exit
 * 0) well within `shutdownTimeoutMs`, leaving no handle open.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import { ensureBuilt, exited, spawnCli, waitForOutput } from '../cli/run-cli.js';
import {
  THRESHOLD_RULE,
  expectedWindows,
  makeReadings,
  publishAll,
  readingMessages,
  sortWindows,
  tempDir,
  testConfig,
} from './helpers/gateway-config.js';
import type { WindowResult } from './helpers/gateway-config.js';
import { startReceiver } from './helpers/receiver.js';
import type { Receiver } from './helpers/receiver.js';
import { freePort, waitFor } from './helpers/wait.js';
import { useWorkerEntry } from './helpers/worker-entry.js';
import { leftOpen, openHandles } from './helpers/open-handles.js';

const WINDOW_MS = 1000;
const SHUTDOWN_TIMEOUT_MS = 10_000;
const WINDOW_STATS = {
  module: 'window-stats',
  config: { field: 'temp', timeField: 'ts', windowMs: WINDOW_MS },
};

function windowsOf(receiver: Receiver): WindowResult[] {
  return sortWindows(receiver.records().map((r) => r.value as WindowResult));
}

describe('Gateway with rules on workers, shutting down', () => {
  const workerEntry = useWorkerEntry();
  let dir: string | undefined;
  let receiver: Receiver | undefined;

  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('Gateway.close() drains the pool, flushes every window upstream, stops the workers and leaves no handle open', async () => {
    dir = await tempDir();
    const before = openHandles();
    receiver = await startReceiver();
    const config = testConfig({
      dataDir: dir,
      sinkUrl: receiver.url,
      embeddedPort: 0,
      pipeline: {
        rules: [THRESHOLD_RULE, WINDOW_STATS],
        workers: { count: 2, ruleTimeoutMs: 5000 },
      },
    });
    config.shutdownTimeoutMs = SHUTDOWN_TIMEOUT_MS;
    const gateway = await Gateway.start(config, { workerEntry: workerEntry() });
    // Event times an hour ahead: the last window of each device is open until the flush.
    const readings = makeReadings(12, 200, Date.now() + 3_600_000, 50);
    await publishAll(gateway.mqttUrl, readingMessages(readings), { qos: 1 });
    await waitFor(() => gateway.stats().received === readings.length, {
      what: 'every reading received',
    });
    const started = performance.now();
    await gateway.close();
    const closeMs = performance.now() - started;
    await gateway.close(); // idempotent
    expect(closeMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    const stats = gateway.stats();
    expect(stats.processed).toBe(readings.length);
    expect(stats.deadLetters).toBe(0);
    expect(windowsOf(receiver)).toEqual(expectedWindows(readings, WINDOW_MS));
    expect(stats.sent).toBe(receiver.recordCount());
    await receiver.close();
    receiver = undefined;
    await waitFor(() => leftOpen(before).length === 0, { timeoutMs: 10_000 }).catch(
      () => undefined,
    );
    expect(leftOpen(before)).toEqual([]);
  });

  it('sluice start exits 0 on SIGTERM within shutdownTimeoutMs, with every window upstream', async () => {
    ensureBuilt();
    dir = await tempDir();
    receiver = await startReceiver();
    const port = await freePort();
    const file = join(dir, 'workers.yaml');
    await writeFile(
      file,
      JSON.stringify({
        dataDir: join(dir, 'data'),
        shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
        mqtt: { embedded: { host: '127.0.0.1', port } },
        pipelines: [
          {
            name: 'sensors',
            topics: ['sensors/+/reading'],
            keyLevel: 1,
            rules: [THRESHOLD_RULE, WINDOW_STATS],
            workers: { count: 2 },
            sink: { type: 'http', url: receiver.url, lingerMs: 20 },
          },
        ],
      }),
    );
    const child = spawnCli(['start', '--config', file], { env: { SLUICE_DEBUG: '1' } });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.resume();
    try {
      await waitForOutput(child, /"msg":"gateway started"/, 60_000);
      const readings = makeReadings(8, 150, Date.now() + 3_600_000, 50);
      await publishAll(`mqtt://127.0.0.1:${port}`, readingMessages(readings), { qos: 1 });
      // Every window but each device's last closed: every reading was processed.
      const expected = expectedWindows(readings, WINDOW_MS);
      await waitFor(() => (receiver as Receiver).recordCount() === expected.length - 8, {
        what: 'every closed window upstream',
      });
      const started = performance.now();
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
      expect(performance.now() - started).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
      expect(stderr).toContain('"msg":"gateway closed"');
      expect(stderr).not.toContain('handles still open');
      // The open windows were flushed at close.
      expect(windowsOf(receiver)).toEqual(expected);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
