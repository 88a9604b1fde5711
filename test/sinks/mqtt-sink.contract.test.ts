/**
 * The sink contract against MqttSink and a real Mosquitto (broken: the broker is stopped;
 * restored: restarted on the same port with its persisted sessions, so the upstream subscriber's
 * QoS 1 subscription survives), plus the record id as an MQTT 5 user property.
 */
import { randomUUID } from 'node:crypto';
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { MqttSink } from '../../gateway/sinks/mqtt-sink.js';
import { startMosquitto } from '../support/mosquitto.js';
import type { Mosquitto } from '../support/mosquitto.js';
import { waitFor } from '../gateway/helpers/wait.js';
import { contractBatch, sinkContract } from './contract.js';
import type { UpstreamRecord } from './contract.js';

interface Upstream {
  broker: Mosquitto;
  subscriber: MqttClient;
  records: UpstreamRecord[];
  userIds: string[];
}

/** Mosquitto plus a persistent QoS 1 subscriber on `sluice/#` collecting what arrives. */
async function startUpstream(): Promise<Upstream> {
  const broker = await startMosquitto({ persistence: true });
  const records: UpstreamRecord[] = [];
  const userIds: string[] = [];
  const subscriber = await connectAsync(broker.url, {
    clientId: `upstream-${randomUUID().slice(0, 8)}`,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 100,
  });
  subscriber.on('error', () => undefined);
  subscriber.on('message', (_topic, payload, packet) => {
    records.push(JSON.parse(payload.toString('utf8')) as UpstreamRecord);
    const id = packet.properties?.userProperties?.['sluice-id'];
    if (typeof id === 'string') userIds.push(id);
  });
  await subscriber.subscribeAsync('sluice/#', { qos: 1 });
  return { broker, subscriber, records, userIds };
}

/** Waits until the subscriber got `count` records (delivery to it is asynchronous). */
async function settled(upstream: Upstream, count: number): Promise<UpstreamRecord[]> {
  await waitFor(() => upstream.records.length >= count, {
    what: `${count} records at the subscriber`,
    timeoutMs: 10_000,
  }).catch(() => undefined);
  return [...upstream.records];
}

async function stopUpstream(upstream: Upstream): Promise<void> {
  await upstream.subscriber.endAsync(true);
  await upstream.broker.close();
}

sinkContract('MqttSink (Mosquitto)', async () => {
  const upstream = await startUpstream();
  const sink = new MqttSink({
    url: upstream.broker.url,
    timeoutMs: 2000,
    initialDelayMs: 10,
    maxDelayMs: 100,
    reconnectPeriodMs: 100,
  });
  return {
    sink,
    received: (atLeast = 0) => settled(upstream, atLeast),
    failures: () => sink.failures,
    breakUpstream: () => upstream.broker.stop(),
    restoreUpstream: () => upstream.broker.restart(),
    close: () => stopUpstream(upstream),
  };
});

describe('MqttSink', () => {
  it('sends each record id as the MQTT 5 user property sluice-id', async () => {
    const upstream = await startUpstream();
    const sink = new MqttSink({ url: upstream.broker.url, initialDelayMs: 10, maxDelayMs: 50 });
    try {
      await sink.send(contractBatch(1, 3));
      const records = await settled(upstream, 3);
      expect(records.map((record) => record.id)).toEqual(upstream.userIds);
      expect(upstream.userIds).toEqual([
        '0000000000000001',
        '0000000000000002',
        '0000000000000003',
      ]);
    } finally {
      await sink.close();
      await stopUpstream(upstream);
    }
  });
});
