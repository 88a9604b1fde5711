/**
 * A dropped MQTT connection while batches wait for upstream: the acks held for the old
 * connection are never sent on the new one, the broker redelivers those messages on the
 * persistent session, and once upstream recovers every reading has arrived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import {
  forwardingPipeline,
  makeReadings,
  publishAll,
  readingMessages,
} from './helpers/gateway-config.js';
import type { Reading } from './helpers/gateway-config.js';
import { useMosquitto, useUpstream } from './helpers/gateway-fixture.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import type { TcpProxy } from './helpers/tcp-proxy.js';
import { delay, waitFor } from './helpers/wait.js';

describe('Gateway losing its broker connection', () => {
  const mosquitto = useMosquitto();
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy(mosquitto().port);
  });
  afterAll(async () => {
    await proxy.close();
  });
  const upstream = useUpstream();

  it('gets unacknowledged QoS 1 messages redelivered after reconnecting and loses none', async () => {
    const { receiver } = upstream();
    receiver.setMode({ kind: 'unavailable' });
    const config = upstream().config({ mqttUrl: proxy.url, pipeline: forwardingPipeline(60, 20) });
    const gateway = await Gateway.start(config);
    try {
      const readings = makeReadings(5, 60, Date.now(), 10);
      await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
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
