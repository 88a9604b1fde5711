/**
 * Sinks chosen by configuration, end to end through a gateway on the embedded broker: a
 * `type: file` sink receives every forwarded reading as JSON lines under the data directory.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import { resolveConfig } from '../../gateway/config/index.js';
import {
  THRESHOLD_RULE,
  makeReadings,
  publishAll,
  readingMessages,
  tempDir,
} from '../gateway/helpers/gateway-config.js';
import type { Reading } from '../gateway/helpers/gateway-config.js';
import { waitFor } from '../gateway/helpers/wait.js';

async function lines(path: string): Promise<{ id: string; value: Reading }[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { id: string; value: Reading });
}

describe('Gateway with a file sink from the configuration', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('writes every forwarded reading to <dataDir>/out/<pipeline>.jsonl through the spool', async () => {
    dir = await tempDir();
    const config = resolveConfig({
      dataDir: dir,
      mqtt: { embedded: { port: 0 } },
      pipelines: [
        {
          name: 'files',
          rules: [THRESHOLD_RULE],
          sink: { type: 'file', lingerMs: 10 },
          spool: { enabled: true },
        },
      ],
      log: { level: 'silent' },
    });
    const gateway = await Gateway.start(config);
    try {
      const readings = makeReadings(4, 50, Date.now(), 10);
      await publishAll(gateway.mqttUrl, readingMessages(readings), { qos: 1 });
      const path = join(dir, 'out', 'files.jsonl');
      await waitFor(async () => (await lines(path)).length === readings.length, {
        what: 'every reading in the file',
      });
      expect((await lines(path)).map((line) => line.value)).toEqual(readings);
    } finally {
      await gateway.close();
    }
  });
});
