/**
 * Backpressure, end to end: with upstream failing (503, then hanging) for seconds under QoS 1
 * load, the outbox stays within its bound, ingest stops reading (the broker holds the rest),
 * and once upstream recovers every reading arrives.
 */
import { describe, expect, it } from 'vitest';
import {
  THRESHOLD_RULE,
  forwardingPipeline,
  makeReadings,
  publishAll,
  readingMessages,
} from './helpers/gateway-config.js';
import type { Reading } from './helpers/gateway-config.js';
import { useMosquitto, useTestGateway } from './helpers/gateway-fixture.js';
import { delay, waitFor } from './helpers/wait.js';

const OUTBOX = 200;
const BATCH = 100;

describe('Gateway backpressure', () => {
  const mosquitto = useMosquitto();
  const start = useTestGateway();

  it('loses nothing and stays bounded while upstream answers 503 and then hangs for seconds under QoS 1 load', async () => {
    const { gateway, receiver } = await start(
      {
        mqttUrl: mosquitto().url,
        pipeline: forwardingPipeline(OUTBOX, BATCH),
        sink: { maxRecords: 50, timeoutMs: 300 },
      },
      { receiverMode: { kind: 'unavailable' } },
    );
    const readings = makeReadings(10, 300, Date.now(), 10);
    const published = publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });

    // Upstream down: the outbox fills to its bound and ingest stops.
    await waitFor(() => gateway.stats().outboxDepth === OUTBOX, { what: 'the outbox to fill' });
    await published;
    await delay(2000);
    receiver.setMode({ kind: 'hang' });
    await delay(2000);
    const paused = gateway.stats();
    expect(paused.sent).toBe(0);
    expect(paused.outboxDepth).toBe(OUTBOX);
    // The broker holds what the gateway does not read: far fewer received than published.
    expect(paused.received).toBeLessThan(readings.length / 2);
    // What is in memory: the outbox (bounded), one batch waiting for room, one being filled.
    expect(paused.received - paused.sent).toBeLessThanOrEqual(OUTBOX + 2 * BATCH + 20);
    expect(receiver.requests()).toBeGreaterThan(1);

    receiver.setMode({ kind: 'accept' });
    await waitFor(() => receiver.recordCount() >= readings.length, {
      timeoutMs: 60_000,
      what: 'every reading upstream',
    });
    const upstream = receiver.records().map((record) => record.value as Reading);
    expect(upstream).toHaveLength(readings.length);
    expect(new Set(upstream.map((r) => JSON.stringify(r)))).toEqual(
      new Set(readings.map((r) => JSON.stringify(r))),
    );
    // The receiver holds the last batch before the gateway has read its 200: wait for that ack.
    await waitFor(() => gateway.stats().sent >= readings.length, {
      what: 'the gateway counting every record upstream accepted as sent',
    });
    const done = gateway.stats();
    expect(done.pipelines[0]?.outboxPeak).toBeLessThanOrEqual(OUTBOX);
    expect(done.deadLetters).toBe(0);
    expect(done.sent).toBe(readings.length);
  });

  it('retries batches upstream refuses with 429 and Retry-After, and dead-letters a batch refused with 400', async () => {
    const { gateway, receiver } = await start({
      mqttUrl: mosquitto().url,
      pipeline: { rules: [THRESHOLD_RULE] },
    });
    receiver.setMode({ kind: 'status', status: 400, body: 'schema mismatch' });
    const first = makeReadings(2, 5, Date.now(), 10);
    await publishAll(mosquitto().url, readingMessages(first), { qos: 1 });
    await waitFor(() => gateway.stats().rejected === first.length, {
      what: 'the refused batch dead-lettered',
    });
    receiver.setMode({ kind: 'status', status: 429 });
    const second = makeReadings(2, 5, Date.now() + 1000, 10);
    await publishAll(mosquitto().url, readingMessages(second), { qos: 1 });
    await waitFor(() => receiver.requests() >= 4, { what: 'retries' });
    receiver.setMode({ kind: 'accept' });
    await waitFor(() => receiver.recordCount() === second.length, {
      what: 'the retried batch upstream',
    });
    expect(gateway.stats().deadLetters).toBe(first.length);
  });
});
