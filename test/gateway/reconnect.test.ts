/**
 * A dropped MQTT connection while batches wait for upstream: the acks held for the old
 * connection are never sent on the new one, the broker redelivers those messages on the
 * persistent session, and once upstream recovers every reading has arrived.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import {
  makeReadings,
  publishAll,
  readingMessages,
  tempDir,
  testConfig,
} from './helpers/gateway-config.js';
import type { Reading } from './helpers/gateway-config.js';
import { startMosquitto } from '../support/mosquitto.js';
import type { Mosquitto } from '../support/mosquitto.js';
import { startReceiver } from './helpers/receiver.js';
import type { Receiver } from './helpers/receiver.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import type { TcpProxy } from './helpers/tcp-proxy.js';
import { delay, waitFor } from './helpers/wait.js';

describe('Gateway losing its broker connection', () => {
  let mosquitto: Mosquitto;
  let proxy: TcpProxy;
  let receiver: Receiver;
  let dir: string;

  beforeAll(async () => {
    mosquitto = await startMosquitto({ maxInflightMessages: 20, maxQueuedMessages: 100_000 });
    proxy = await startTcpProxy(mosquitto.port);
    receiver = await startReceiver();
    dir = await tempDir();
  });
  afterAll(async () => {
    await receiver.close();
    await proxy.close();
    await mosquitto.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gets unacknowledged QoS 1 messages redelivered after reconnecting and loses none', async () => {
    receiver.setMode({ kind: 'unavailable' });
    const config = testConfig({
      dataDir: dir,
      sinkUrl: receiver.url,
      mqttUrl: proxy.url,
      pipeline: {
        rules: [{ module: 'threshold', config: { field: 'temp', min: -40, max: 125 } }],
        outboxMaxRecords: 60,
        batch: { maxEvents: 20, lingerMs: 5 },
      },
    });
    const gateway = await Gateway.start(config);
    try {
      const readings = makeReadings(5, 60, Date.now(), 10);
      await publishAll(mosquitto.url, readingMessages(readings), { qos: 1 });
      await waitFor(() => gateway.stats().outboxDepth === 60, { what: 'the outbox to fill' });
      const beforeCut = gateway.stats().received;
      proxy.cut();
      await waitFor(() => proxy.connections() >= 2, { what: 'the gateway to reconnect' });
      await delay(500);
      receiver.setMode({ kind: 'accept' });
      await waitFor(
        () => {
          const upstream = new Set(
            receiver.records().map((record) => JSON.stringify(record.value as Reading)),
          );
          return readings.every((r) => upstream.has(JSON.stringify(r)));
        },
        { what: 'every reading upstream' },
      );
      // The batches held when the connection dropped were redelivered, so some readings came twice.
      expect(gateway.stats().received).toBeGreaterThan(readings.length);
      expect(beforeCut).toBeLessThan(readings.length);
    } finally {
      await gateway.close();
    }
  });
});
