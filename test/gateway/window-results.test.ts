/**
 * End to end, against real brokers and a real HTTP receiver: QoS 1 JSON readings through
 * threshold → window-stats give exactly the per-device window results computed offline, and
 * malformed payloads land in the dead-letter file without stopping the flow.
 */
import { describe, expect, it } from 'vitest';
import type { Gateway } from '../../gateway/gateway.js';
import {
  THRESHOLD_RULE,
  expectedWindows,
  makeReadings,
  publishAll,
  readDeadLetters,
  readingMessages,
  sortWindows,
} from './helpers/gateway-config.js';
import type { Reading, WindowResult } from './helpers/gateway-config.js';
import { useMosquitto, useTestGateway } from './helpers/gateway-fixture.js';
import type { Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

const WINDOW_MS = 1000;
const RULES = [
  THRESHOLD_RULE,
  { module: 'window-stats', config: { field: 'temp', timeField: 'ts', windowMs: WINDOW_MS } },
];

function windowsUpstream(receiver: Receiver): WindowResult[] {
  return sortWindows(receiver.records().map((record) => record.value as WindowResult));
}

/**
 * `count` readings for each of `devices` devices, event times an hour ahead: no tick closes a
 * window early; windows close on later readings of the same device, and the rest on close()
 * (flush).
 */
function futureReadings(devices: number, count: number): Reading[] {
  return makeReadings(devices, count, Date.now() + 3_600_000, 100);
}

/** Publishes `messages` to `url`, waits until `gateway` received them all, and closes it. */
async function deliverAndClose(
  gateway: Gateway,
  url: string,
  messages: readonly { topic: string; payload: string | Buffer }[],
  publish: { qos: 0 | 1 | 2; protocolVersion?: 4 | 5 },
  what = 'every reading received',
): Promise<void> {
  await publishAll(url, messages, publish);
  await waitFor(() => gateway.stats().received === messages.length, { what });
  await gateway.close();
}

describe('Gateway with Mosquitto', () => {
  const mosquitto = useMosquitto();
  const start = useTestGateway();

  it('turns QoS 1 JSON readings into exactly the expected per-device window results upstream', async () => {
    const { gateway, receiver } = await start({
      mqttUrl: mosquitto().url,
      pipeline: { rules: RULES },
    });
    const readings = futureReadings(20, 60);
    await deliverAndClose(gateway, mosquitto().url, readingMessages(readings), { qos: 1 });
    const stats = gateway.stats();
    expect(stats.processed).toBe(readings.length);
    expect(stats.deadLetters).toBe(0);
    expect(windowsUpstream(receiver)).toEqual(expectedWindows(readings, WINDOW_MS));
    expect(stats.sent).toBe(receiver.recordCount());
  });

  it('writes malformed payloads to the dead-letter file with the reason and keeps the flow going', async () => {
    const { gateway, receiver, config } = await start({
      mqttUrl: mosquitto().url,
      pipeline: { rules: RULES },
    });
    const readings = futureReadings(5, 40);
    const messages: { topic: string; payload: string | Buffer }[] = readingMessages(readings);
    const malformed = [
      { topic: 'sensors/bad-1/reading', payload: '{"device":"bad-1","ts":1,"temp":' },
      { topic: 'sensors/bad-2/reading', payload: '{"device":"bad-2","ts":1}' },
      { topic: 'sensors/bad-3/reading', payload: Buffer.from([0xff, 0xfe, 0x00, 0x01]) },
    ];
    // Interleave: malformed payloads in the middle of valid ones.
    messages.splice(50, 0, ...malformed);
    await deliverAndClose(gateway, mosquitto().url, messages, { qos: 1 }, 'every message received');

    expect(windowsUpstream(receiver)).toEqual(expectedWindows(readings, WINDOW_MS));
    const dead = await readDeadLetters(config.deadLetter.path);
    expect(dead).toHaveLength(3);
    const byKey = new Map(dead.map((entry) => [entry['key'], entry]));
    expect(byKey.get('bad-1')).toMatchObject({
      pipeline: 'test',
      rule: 'threshold',
      topic: 'sensors/bad-1/reading',
      payload: '{"device":"bad-1","ts":1,"temp":',
      encoding: 'utf8',
    });
    expect(String(byKey.get('bad-1')?.['reason'])).toMatch(/JSON/);
    expect(String(byKey.get('bad-2')?.['reason'])).toMatch(/temp/);
    expect(byKey.get('bad-3')).toMatchObject({
      encoding: 'base64',
      payload: Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64'),
    });
    for (const entry of dead) expect(entry['id']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('speaks MQTT 5 with a receive maximum and gives the same window results', async () => {
    const { gateway, receiver } = await start(
      { mqttUrl: mosquitto().url, protocolVersion: 5, pipeline: { rules: RULES } },
      {
        configure: (config) => {
          config.mqtt.receiveMaximum = 30;
        },
      },
    );
    const readings = futureReadings(10, 40);
    await deliverAndClose(gateway, mosquitto().url, readingMessages(readings), {
      qos: 1,
      protocolVersion: 5,
    });
    expect(windowsUpstream(receiver)).toEqual(expectedWindows(readings, WINDOW_MS));
  });

  it('passes QoS 0 readings through', async () => {
    const { gateway, receiver } = await start({
      mqttUrl: mosquitto().url,
      pipeline: { qos: 0, rules: [THRESHOLD_RULE] },
    });
    const readings = makeReadings(10, 50, Date.now(), 10);
    await publishAll(mosquitto().url, readingMessages(readings), { qos: 0 });
    await waitFor(() => receiver.recordCount() === readings.length, {
      what: 'every reading upstream',
    });
    const values = receiver.records().map((record) => record.value);
    expect(new Set(values.map((v) => JSON.stringify(v)))).toEqual(
      new Set(readings.map((r) => JSON.stringify(r))),
    );
    expect(gateway.stats().qos0Dropped).toBe(0);
  });
});

// Mosquitto 2.0.11 (this machine's) stops delivering queued QoS 2 messages to a subscriber once
// `max_inflight_messages` were in flight, even to a bare MQTT.js subscriber (its in-flight quota
// bugs were fixed in 2.0.13): this broker runs with an unlimited window.
describe('Gateway with Mosquitto, QoS 2', () => {
  const mosquitto = useMosquitto({ maxInflightMessages: 0, maxQueuedMessages: 100_000 });
  const start = useTestGateway();

  it('takes QoS 2 readings and gives the same window results', async () => {
    const { gateway, receiver } = await start({
      mqttUrl: mosquitto().url,
      pipeline: { qos: 2, rules: RULES },
    });
    const readings = futureReadings(10, 30);
    await deliverAndClose(gateway, mosquitto().url, readingMessages(readings), { qos: 2 });
    expect(windowsUpstream(receiver)).toEqual(expectedWindows(readings, WINDOW_MS));
  });
});

describe('Gateway with the embedded broker', () => {
  const start = useTestGateway();

  it('turns QoS 1 JSON readings into exactly the expected per-device window results upstream', async () => {
    const { gateway, receiver } = await start({ embeddedPort: 0, pipeline: { rules: RULES } });
    const readings = futureReadings(20, 60);
    await deliverAndClose(gateway, gateway.mqttUrl, readingMessages(readings), { qos: 1 });
    expect(gateway.stats().processed).toBe(readings.length);
    expect(windowsUpstream(receiver)).toEqual(expectedWindows(readings, WINDOW_MS));
  });

  it('closes windows on the rule tick when no more readings arrive', async () => {
    const { gateway, receiver } = await start({
      embeddedPort: 0,
      pipeline: {
        tickIntervalMs: 50,
        rules: [
          THRESHOLD_RULE,
          {
            module: 'window-stats',
            config: { field: 'temp', timeField: 'ts', windowMs: WINDOW_MS, graceMs: 0 },
          },
        ],
      },
    });
    // Event times in the past, so every window is due at the next tick; one reading per device
    // and window, so that no tick can close a window before all its readings arrived.
    const readings = makeReadings(5, 4, Date.now() - 60_000, WINDOW_MS);
    await publishAll(gateway.mqttUrl, readingMessages(readings), { qos: 1 });
    const expected = expectedWindows(readings, WINDOW_MS);
    await waitFor(() => receiver.recordCount() === expected.length, {
      what: 'every window upstream before close',
    });
    expect(windowsUpstream(receiver)).toEqual(expected);
  });
});
