import { decode as decodeCbor } from 'cbor-x';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runSimulator,
  SimulatorConnectError,
  SimulatorOptionsError,
  type PublishedMessage,
  type SimulatorResult,
} from '../../gateway/simulator/index.js';
import { freePort, startMosquitto, type Mosquitto } from '../support/mosquitto.js';

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.close();
});

interface Received {
  topic: string;
  payload: Buffer;
}

/** A subscriber that records every message on `filter`. */
async function subscribe(
  filter: string,
  qos: 0 | 1 | 2,
  protocolVersion: 4 | 5 = 4,
): Promise<{ client: MqttClient; received: Received[] }> {
  const client = await connectAsync(broker.url, {
    protocolVersion,
    clean: true,
    reconnectPeriod: 0,
  });
  const received: Received[] = [];
  client.on('message', (topic, payload) => received.push({ topic, payload }));
  await client.subscribeAsync(filter, { qos });
  return { client, received };
}

/** What a subscriber received while the simulator ran, and what the simulator reports. */
interface Delivery {
  result: SimulatorResult;
  /** The messages the simulator reports it published (`collect: true`). */
  published: PublishedMessage[];
  received: Received[];
}

/**
 * Subscribes to `filter`, runs the simulator with `options`, waits until the subscriber has
 * received as many messages as the simulator published, and disconnects the subscriber.
 */
async function simulateAndReceive(
  subscription: { filter: string; qos: 0 | 1 | 2; protocolVersion?: 4 | 5 },
  options: Parameters<typeof runSimulator>[0],
): Promise<Delivery> {
  const { client, received } = await subscribe(
    subscription.filter,
    subscription.qos,
    subscription.protocolVersion,
  );
  try {
    const result = await runSimulator(options);
    await waitFor(() => received.length >= result.published);
    return { result, published: result.messages ?? [], received };
  } finally {
    await client.endAsync();
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function kinds(result: SimulatorResult): Record<string, number> {
  const counts: Record<string, number> = { valid: 0, range: 0, missing: 0, malformed: 0 };
  for (const message of result.messages ?? [])
    counts[message.kind] = (counts[message.kind] ?? 0) + 1;
  return counts;
}

/** Decodes a payload the way a rule would see it; undefined when it does not decode. */
function decodePayload(
  format: 'json' | 'cbor',
  payload: Buffer,
): Record<string, unknown> | undefined {
  try {
    return (
      format === 'json' ? JSON.parse(payload.toString('utf8')) : decodeCbor(payload)
    ) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function checkPayloads(format: 'json' | 'cbor', messages: readonly PublishedMessage[]): void {
  for (const message of messages) {
    const decoded = decodePayload(format, message.payload);
    switch (message.kind) {
      case 'malformed':
        expect(decoded).toBeUndefined();
        expect(message.reading).toBeUndefined();
        break;
      case 'missing':
        expect(decoded).toEqual(message.reading);
        expect(decoded).not.toHaveProperty('temp');
        break;
      case 'range':
        expect(decoded).toEqual(message.reading);
        expect(Math.abs((decoded?.temp as number) - 42.5)).toBeGreaterThan(82.5); // outside -40..125
        break;
      case 'valid':
        expect(decoded).toEqual(message.reading);
        expect(decoded?.temp).toBeGreaterThanOrEqual(-40);
        expect(decoded?.temp).toBeLessThanOrEqual(125);
        expect(decoded?.device).toBe(message.device);
        expect(message.topic).toBe(`sensors/${message.device}/reading`);
        break;
    }
  }
}

/** The subscriber received exactly the published payloads, in publish order. */
function expectSamePayloads(
  received: readonly Received[],
  published: readonly PublishedMessage[],
): void {
  expect(received.map((m) => m.payload.toString('hex'))).toEqual(
    published.map((m) => m.payload.toString('hex')),
  );
}

describe('runSimulator against Mosquitto', () => {
  it('delivers at QoS 1 exactly the JSON messages it reports, in order, with the requested invalid mix', async () => {
    const { result, published, received } = await simulateAndReceive(
      { filter: 'sensors/+/reading', qos: 1 },
      {
        url: broker.url,
        devices: 20,
        rate: 0,
        count: 3000,
        qos: 1,
        invalidRatio: 0.1,
        seed: 7,
        collect: true,
      },
    );
    expect(result).toMatchObject({
      published: 3000,
      sent: 3000,
      failed: 0,
      unconfirmed: 0,
      stoppedBy: 'count',
      qos: 1,
    });
    expect(received.map((m) => m.topic)).toEqual(published.map((m) => m.topic));
    expectSamePayloads(received, published);

    const counts = kinds(result);
    expect(counts).toEqual({ valid: result.valid, ...result.invalid });
    const invalid = result.invalid.range + result.invalid.missing + result.invalid.malformed;
    expect(invalid).toBeGreaterThan(3000 * 0.1 * 0.6);
    expect(invalid).toBeLessThan(3000 * 0.1 * 1.4);
    expect(result.invalid.range).toBeGreaterThan(0);
    expect(result.invalid.missing).toBeGreaterThan(0);
    expect(result.invalid.malformed).toBeGreaterThan(0);
    expect(result.bytes).toBe(published.reduce((sum, m) => sum + m.payload.length, 0));
    checkPayloads('json', published);
    // Devices take turns: each of the 20 sent 150 messages, with increasing ids.
    const perDevice = new Map<string, number>();
    for (const m of published) perDevice.set(m.device, (perDevice.get(m.device) ?? 0) + 1);
    expect([...perDevice.values()]).toEqual(new Array(20).fill(150));
    expect(published.map((m) => m.index)).toEqual([...Array(3000).keys()]);
  });

  it('publishes CBOR readings and broken CBOR when asked for only malformed invalid messages', async () => {
    const { result, published, received } = await simulateAndReceive(
      { filter: 'plant/#', qos: 1 },
      {
        url: broker.url,
        devices: 5,
        rate: 5000,
        count: 1000,
        format: 'cbor',
        qos: 0,
        invalidRatio: 0.2,
        invalidKinds: ['malformed'],
        topic: 'plant/{device}/climate',
        devicePrefix: 'boiler-',
        seed: 'cbor',
        collect: true,
      },
    );
    expect(result).toMatchObject({ published: 1000, sent: 1000, format: 'cbor' });
    expect(result.invalid.range).toBe(0);
    expect(result.invalid.missing).toBe(0);
    expect(result.invalid.malformed).toBeGreaterThan(100);
    expectSamePayloads(received, published);
    expect(new Set(published.map((m) => m.topic))).toEqual(
      new Set([1, 2, 3, 4, 5].map((n) => `plant/boiler-${n}/climate`)),
    );
    for (const message of published) {
      const decoded = decodePayload('cbor', message.payload);
      if (message.kind === 'malformed') expect(decoded).toBeUndefined();
      else expect(decoded).toEqual(message.reading);
    }
  });

  it('spreads devices over several MQTT 5 connections at QoS 2 and loses nothing', async () => {
    const { result, published, received } = await simulateAndReceive(
      { filter: 'sensors/+/reading', qos: 2, protocolVersion: 5 },
      {
        url: broker.url,
        protocolVersion: 5,
        clients: 3,
        devices: 9,
        rate: 0,
        count: 1800,
        qos: 2,
        invalidRatio: 0,
        collect: true,
      },
    );
    expect(result).toMatchObject({ published: 1800, sent: 1800, valid: 1800, clients: 3 });
    // Each device sticks to one connection, so its own order is kept.
    for (const m of published) expect(m.client).toBe((Number(m.device.slice(4)) - 1) % 3);
    const byTopic = (list: { topic: string; payload: Buffer }[], topic: string): string[] =>
      list.filter((m) => m.topic === topic).map((m) => m.payload.toString());
    for (let d = 1; d <= 9; d++) {
      const topic = `sensors/dev-${d}/reading`;
      expect(byTopic(received, topic)).toEqual(byTopic(published, topic));
    }
    checkPayloads('json', published);
  });

  it('publishes the same messages again for the same seed and event-time start', async () => {
    const options = {
      url: broker.url,
      devices: 7,
      rate: 0,
      count: 300,
      seed: 99,
      startTs: 1_700_000_000_000,
      tsStep: 10,
      collect: true,
    };
    const first = await runSimulator(options);
    const second = await runSimulator(options);
    const other = await runSimulator({ ...options, seed: 100 });
    const payloads = (r: SimulatorResult): string[] =>
      (r.messages ?? []).map((m) => m.payload.toString('hex'));
    expect(payloads(second)).toEqual(payloads(first));
    expect(payloads(other)).not.toEqual(payloads(first));
    const valid = (first.messages ?? []).filter((m) => m.reading !== undefined);
    for (const m of valid) expect(m.reading?.ts).toBe(1_700_000_000_000 + m.index * 10);
  });

  it('keeps to the requested rate and stops after the duration', async () => {
    const result = await runSimulator({
      url: broker.url,
      devices: 10,
      rate: 200,
      durationMs: 1000,
    });
    expect(result.stoppedBy).toBe('duration');
    expect(result.published).toBeGreaterThan(0);
    // Never ahead of the schedule: at most rate × duration (+1 for the message due at t = 0).
    expect(result.published).toBeLessThanOrEqual(201);
    expect(result.sent).toBe(result.published);
  });

  it('stops when its signal aborts and reports what it sent', async () => {
    const controller = new AbortController();
    const seen: PublishedMessage[] = [];
    const run = runSimulator({
      url: broker.url,
      rate: 500,
      qos: 1,
      signal: controller.signal,
      onPublish: (message) => {
        seen.push(message);
        if (seen.length === 50) controller.abort();
      },
    });
    const result = await run;
    expect(result.stoppedBy).toBe('signal');
    expect(result.published).toBe(seen.length);
    expect(result.sent).toBe(result.published);
  });
});

describe('runSimulator errors', () => {
  it('fails with SIMULATOR_CONNECT_FAILED when no broker listens', async () => {
    const port = await freePort();
    const error = await runSimulator({
      url: `mqtt://127.0.0.1:${port}`,
      count: 1,
      connectTimeoutMs: 5000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SimulatorConnectError);
    expect((error as SimulatorConnectError).code).toBe('SIMULATOR_CONNECT_FAILED');
    expect((error as Error).message).toContain(`could not connect to mqtt://127.0.0.1:${port}`);
  });

  it('refuses invalid options naming the option, the value and the fix', async () => {
    const cases: [Parameters<typeof runSimulator>[0], string][] = [
      [{ invalidRatio: 1.5 }, 'invalidRatio: 1.5 is more than 1'],
      [{ devices: 0 }, 'devices: 0 is not valid (expected a whole number ≥ 1)'],
      [{ topic: 'sensors/all' }, 'has no {device} placeholder'],
      [{ topic: 'sensors/+/{device}' }, 'contains a wildcard'],
      [{ url: 'http://x' }, 'url: "http://x" is not a broker URL'],
      [{ invalidKinds: ['typo' as 'range'] }, 'invalidKinds: "typo" is not an invalid kind'],
    ];
    for (const [options, message] of cases) {
      const error = await runSimulator(options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SimulatorOptionsError);
      expect((error as Error).message).toContain(message);
    }
  });
});
