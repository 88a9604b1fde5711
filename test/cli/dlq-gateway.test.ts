/**
 * `sluice dlq replay` end to end: a real gateway dead-letters readings its rule cannot use, the
 * rule is fixed, the replay re-publishes them into Mosquitto and they reach upstream through the
 * pipeline; the running gateway keeps writing dead letters to the rewritten file.
 */
import { readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import type { Config } from '../../gateway/config/index.js';
import {
  makeReadings,
  publishAll,
  readDeadLetters,
  tempDir,
  testConfig,
} from '../gateway/helpers/gateway-config.js';
import { startReceiver, type Receiver } from '../gateway/helpers/receiver.js';
import { waitFor } from '../gateway/helpers/wait.js';
import { GATEWAY_TEST_BROKER } from '../gateway/helpers/gateway-fixture.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { ensureBuilt, runCli } from './run-cli.js';

let broker: Mosquitto;
let receiver: Receiver;
let dir: string;

beforeAll(async () => {
  ensureBuilt();
  broker = await startMosquitto(GATEWAY_TEST_BROKER);
  receiver = await startReceiver();
  dir = await tempDir();
}, 180_000);
afterAll(async () => {
  await receiver?.close();
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

function config(field: string): Config {
  return testConfig({
    dataDir: dir,
    sinkUrl: receiver.url,
    mqttUrl: broker.url,
    pipeline: {
      rules: [{ module: 'threshold', config: { field, min: -40, max: 125 } }],
    },
  });
}

describe('sluice dlq replay with a gateway', () => {
  it('sends dead-lettered readings through the fixed pipeline to upstream, exactly once each', async () => {
    // Devices send "temperature"; the rule expects "temp": every reading is dead-lettered.
    const readings = makeReadings(3, 10, Date.now(), 10).map((r) => ({
      device: r.device,
      ts: r.ts,
      temperature: r.temp,
    }));
    const messages = readings.map((r) => ({
      topic: `sensors/${r.device}/reading`,
      payload: JSON.stringify(r),
    }));
    const first = await Gateway.start(config('temp'));
    const deadLetterPath = config('temp').deadLetter.path;
    try {
      await publishAll(broker.url, messages, { qos: 1 });
      await waitFor(() => first.stats().deadLetters === readings.length, {
        what: 'every reading dead-lettered',
      });
    } finally {
      await first.close();
    }
    expect(receiver.records()).toHaveLength(0);
    expect(await readDeadLetters(deadLetterPath)).toHaveLength(readings.length);

    // The rule fixed; the gateway runs while the dead letters are replayed.
    const second = await Gateway.start(config('temperature'));
    try {
      const run = await runCli([
        'dlq',
        'replay',
        '--file',
        deadLetterPath,
        '--url',
        broker.url,
        '--pipeline',
        'test',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`replayed ${readings.length} dead letter(s)`);
      await waitFor(() => receiver.recordCount() >= readings.length, {
        timeoutMs: 60_000,
        what: 'the replayed readings upstream',
      });
      const upstream = receiver.records().map((record) => JSON.stringify(record.value));
      expect(upstream.sort()).toEqual(messages.map((m) => m.payload).sort());
      expect(await readDeadLetters(deadLetterPath)).toHaveLength(0);
      const moved = (await readFile(`${deadLetterPath}.replayed`, 'utf8')).trim().split('\n');
      expect(moved).toHaveLength(readings.length);

      // The running gateway noticed the file was replaced: new dead letters land in it.
      await publishAll(broker.url, [{ topic: 'sensors/dev-9/reading', payload: 'not json' }], {
        qos: 1,
      });
      await waitFor(async () => (await readDeadLetters(deadLetterPath)).length === 1, {
        what: 'the new dead letter in the rewritten file',
      });
      const [entry] = await readDeadLetters(deadLetterPath);
      expect(entry).toMatchObject({ topic: 'sensors/dev-9/reading', payload: 'not json' });
    } finally {
      await second.close();
    }
  });
});
