/**
 * A rule that traps fails its batch, not the gateway: the batch's events go to the dead-letter
 * file with the trap as the reason, and later batches flow on. `device` outputs reach the device
 * as MQTT commands.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import {
  makeReadings,
  publishAll,
  readDeadLetters,
  readingMessages,
  tempDir,
  testConfig,
} from './helpers/gateway-config.js';
import type { Reading } from './helpers/gateway-config.js';
import { startReceiver } from './helpers/receiver.js';
import type { Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

// Built from filters/test-rules/trap-or-forward.ts by the global setup.
const RULE_PATH = fileURLToPath(
  new URL('../../dist/test-rules/trap-or-forward.wasm', import.meta.url),
);

describe('Gateway with a rule that traps', () => {
  let dir: string;
  let receiver: Receiver;
  let gateway: Gateway;

  beforeAll(async () => {
    dir = await tempDir();
    receiver = await startReceiver();
    const config = testConfig({
      dataDir: dir,
      sinkUrl: receiver.url,
      embeddedPort: 0,
      pipeline: {
        rules: [{ name: 'trapper', module: RULE_PATH, config: {} }],
        batch: { maxEvents: 50, lingerMs: 5 },
      },
    });
    gateway = await Gateway.start(config);
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('dead-letters the batch with the trap reason and keeps processing later batches', async () => {
    const before = makeReadings(4, 10, Date.now(), 10);
    const trap: Reading = { device: 'trap', ts: Date.now(), temp: 1 };
    await publishAll(gateway.mqttUrl, readingMessages([...before, trap]), { qos: 1 });
    await waitFor(() => gateway.stats().ruleTraps === 1, { what: 'the trap' });
    const after = makeReadings(4, 10, Date.now() + 1000, 10);
    await publishAll(gateway.mqttUrl, readingMessages(after), { qos: 1 });
    await waitFor(() => gateway.stats().processed === before.length + 1 + after.length, {
      what: 'all processed',
    });

    // Dead letters are written within 50 ms of their batch.
    let deadLetters: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        deadLetters = await readDeadLetters(join(dir, 'dead', 'dead-letter.jsonl'));
        return deadLetters.length === gateway.stats().deadLetters;
      },
      { what: 'the dead letters written' },
    );
    const trapped = deadLetters.find((entry) => entry['key'] === 'trap');
    expect(trapped).toMatchObject({
      pipeline: 'test',
      rule: 'trapper',
      topic: 'sensors/trap/reading',
    });
    expect(String(trapped?.['reason'])).toMatch(/RULE_TRAP/);
    expect(JSON.parse(String(trapped?.['payload']))).toEqual(trap);
    for (const entry of deadLetters) expect(String(entry['reason'])).toMatch(/RULE_TRAP/);

    // Every reading before the trap went either upstream or, in the failed batch, to dead letters.
    await waitFor(
      () => receiver.records().length + deadLetters.length - 1 >= before.length + after.length,
      {
        what: 'the rest upstream',
      },
    );
    const upstream = new Set(receiver.records().map((record) => JSON.stringify(record.value)));
    const dead = new Set(deadLetters.map((entry) => String(entry['payload'])));
    for (const r of before)
      expect(upstream.has(JSON.stringify(r)) || dead.has(JSON.stringify(r))).toBe(true);
    // The flow went on: everything published after the trap arrived upstream.
    for (const r of after) expect(upstream.has(JSON.stringify(r))).toBe(true);
  });

  it('publishes device outputs to the command topic of the device', async () => {
    const device = await connectAsync(gateway.mqttUrl, {
      clientId: 'device-cmd',
      clean: true,
      reconnectPeriod: 0,
    });
    const commands: string[] = [];
    device.on('message', (topic, payload) => commands.push(`${topic} ${payload.toString()}`));
    await device.subscribeAsync('devices/cmd/commands', { qos: 1 });
    await publishAll(
      gateway.mqttUrl,
      readingMessages([{ device: 'cmd', ts: Date.now(), temp: 2 }]),
      { qos: 1 },
    );
    await waitFor(() => commands.length === 1, { what: 'the command' });
    expect(commands).toEqual(['devices/cmd/commands {"cmd":"hello"}']);
    await device.endAsync();
  });
});
