/**
 * A gateway with the disk spool closes cleanly: every spool file descriptor is closed, what
 * upstream accepted is recorded in the cursor, and a restart on the same directory finds nothing
 * left to send.
 */
import { readFile, readdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import {
  makeReadings,
  publishAll,
  readingMessages,
  tempDir,
  testConfig,
} from '../gateway/helpers/gateway-config.js';
import { startReceiver } from '../gateway/helpers/receiver.js';
import type { Receiver } from '../gateway/helpers/receiver.js';
import { waitFor } from '../gateway/helpers/wait.js';

/** Paths of this process's open file descriptors under `dir`. */
async function openFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target.startsWith(dir)) out.push(target);
  }
  return out;
}

describe('Gateway with the disk spool, lifecycle', () => {
  let dir: string | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('closes every spool file on close and resumes with nothing left after everything was sent', async () => {
    dir = await tempDir();
    receiver = await startReceiver();
    const config = testConfig({
      dataDir: dir,
      sinkUrl: receiver.url,
      embeddedPort: 0,
      pipeline: { spool: { enabled: true, fsync: 'interval', maxAgeMs: 3_600_000 } },
    });
    const gateway = await Gateway.start(config);
    const readings = makeReadings(3, 50, Date.now(), 100);
    await publishAll(gateway.mqttUrl, readingMessages(readings), { qos: 1 });
    await waitFor(() => gateway.stats().received === readings.length, {
      what: 'every reading received',
    });
    expect(await openFilesUnder(dir)).not.toEqual([]);
    await gateway.close();
    await gateway.close();
    expect(gateway.stats().sent).toBeGreaterThan(0);
    expect(await openFilesUnder(dir)).toEqual([]);
    const cursor = JSON.parse(
      await readFile(join(dir, 'spool', 'test', 'cursor.json'), 'utf8'),
    ) as { readers: Record<string, { seq: number }> };
    expect(cursor.readers['http']?.seq).toBe(gateway.stats().sent);

    const again = await Gateway.start(config);
    try {
      expect(again.stats().outboxDepth).toBe(0);
    } finally {
      await again.close();
    }
  });
});
