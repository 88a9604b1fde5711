/**
 * A rule that traps fails neither the gateway nor its batch: the batch is retried event by event,
 * the trapping event alone goes to the dead-letter file with the trap as the reason, its batch
 * neighbours and later batches flow on upstream. `device` outputs reach the device as MQTT
 * commands.
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

  it('dead-letters only the trapping event and forwards its batch neighbours', async () => {
    const before = makeReadings(4, 10, Date.now(), 10);
    const trap: Reading = { device: 'trap', ts: Date.now(), temp: 1 };
    const neighbours = makeReadings(2, 3, Date.now() + 500, 10);
    // One client, QoS 1: the trap lands in a batch with readings before and after it.
    await publishAll(gateway.mqttUrl, readingMessages([...before, trap, ...neighbours]), {
      qos: 1,
    });
    await waitFor(() => gateway.stats().deadLetters === 1, { what: 'the dead letter' });
    const after = makeReadings(4, 10, Date.now() + 1000, 10);
    await publishAll(gateway.mqttUrl, readingMessages(after), { qos: 1 });
    const good = [...before, ...neighbours, ...after];
    await waitFor(() => gateway.stats().processed === good.length + 1, { what: 'all processed' });

    // Dead letters are written within 50 ms of their batch.
    let deadLetters: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        deadLetters = await readDeadLetters(join(dir, 'dead', 'dead-letter.jsonl'));
        return deadLetters.length === 1;
      },
      { what: 'the dead letter written' },
    );
    expect(deadLetters[0]).toMatchObject({
      pipeline: 'test',
      rule: 'trapper',
      topic: 'sensors/trap/reading',
      key: 'trap',
    });
    expect(String(deadLetters[0]?.['reason'])).toMatch(
      /^RULE_TRAP: rule "trapper" trapped in process/,
    );
    expect(JSON.parse(String(deadLetters[0]?.['payload']))).toEqual(trap);
    // The batch trapped once, then the trapping event again when retried alone.
    expect(gateway.stats().ruleTraps).toBe(2);

    // Every other reading arrived upstream, exactly once.
    await waitFor(() => receiver.recordCount() >= good.length, { what: 'the rest upstream' });
    const upstream = receiver.records().map((record) => JSON.stringify(record.value));
    expect(upstream.sort()).toEqual(good.map((r) => JSON.stringify(r)).sort());
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
