/**
 * The sink contract against NatsSink and the real NATS server with JetStream on 127.0.0.1:4222
 * (broken: the stream is deleted, so publishes find no responder; restored: created again), and
 * JetStream's de-duplication of a replayed batch by `Nats-Msg-Id`.
 */
import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsSink } from '../../gateway/sinks/nats-sink.js';
import { contractBatch, sinkContract } from './contract.js';
import type { UpstreamRecord } from './contract.js';

const SERVER = 'nats://127.0.0.1:4222';

let nc: NatsConnection;
let jsm: JetStreamManager;
beforeAll(async () => {
  nc = await connect({ servers: SERVER });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc.close();
});

/** A fresh stream on its own subjects. */
async function createStream(): Promise<{ name: string; subjects: string }> {
  const id = randomUUID().slice(0, 8);
  const stream = { name: `sluice-test-${id}`, subjects: `sluice-test-${id}` };
  await addStream(stream);
  return stream;
}

async function addStream(stream: { name: string; subjects: string }): Promise<void> {
  await jsm.streams.add({
    name: stream.name,
    subjects: [`${stream.subjects}.>`],
    duplicate_window: 60_000_000_000, // 60 s in nanoseconds
  });
}

/** The records stored in `stream`, in stream order. */
async function storedRecords(name: string): Promise<UpstreamRecord[]> {
  const info = await jsm.streams.info(name).catch(() => undefined);
  if (info === undefined) return [];
  const out: UpstreamRecord[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const message = await jsm.streams.getMessage(name, { seq });
    if (message !== null) out.push(message.json<UpstreamRecord>());
  }
  return out;
}

sinkContract('NatsSink (JetStream)', async () => {
  const stream = await createStream();
  const sink = new NatsSink({
    servers: [SERVER],
    subject: `${stream.subjects}.{output}.{key}`,
    timeoutMs: 500,
    initialDelayMs: 10,
    maxDelayMs: 50,
  });
  return {
    sink,
    received: () => storedRecords(stream.name),
    failures: () => sink.failures,
    breakUpstream: async () => {
      await jsm.streams.delete(stream.name);
    },
    restoreUpstream: () => addStream(stream),
    close: async () => {
      await jsm.streams.delete(stream.name).catch(() => undefined);
    },
  };
});

describe('NatsSink', () => {
  it('lets JetStream drop a replayed batch by its message ids', async () => {
    const stream = await createStream();
    const sink = new NatsSink({ servers: [SERVER], subject: `${stream.subjects}.{output}.{key}` });
    try {
      await sink.send(contractBatch(1, 20));
      await sink.send(contractBatch(11, 20)); // a replay overlapping the first batch
      const ids = (await storedRecords(stream.name)).map((record) => parseInt(record.id, 16));
      expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(sink.duplicates).toBe(10);
    } finally {
      await sink.close();
      await jsm.streams.delete(stream.name).catch(() => undefined);
    }
  });
});
