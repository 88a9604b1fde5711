/**
 * The circuit breaker of a sink, against a real HTTP receiver that fails and then recovers:
 * requests while upstream is down are counted by the breaker's openings (not by time), delivery
 * resumes on recovery, nothing is lost; and end to end in a gateway, whose stats show the state.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameWriter } from '../../runtime/index.js';
import type { OutboxBatch } from '../../gateway/outbox/outbox.js';
import { SinkRejectedError } from '../../gateway/sinks/errors.js';
import { HttpSink } from '../../gateway/sinks/http-sink.js';
import {
  forwardingPipeline,
  makeReadings,
  publishAll,
  readingMessages,
} from '../gateway/helpers/gateway-config.js';
import type { Reading } from '../gateway/helpers/gateway-config.js';
import { useMosquitto, useTestGateway } from '../gateway/helpers/gateway-fixture.js';
import { startReceiver } from '../gateway/helpers/receiver.js';
import type { Receiver } from '../gateway/helpers/receiver.js';
import { waitFor } from '../gateway/helpers/wait.js';

function batch(count: number): OutboxBatch {
  const writer = new FrameWriter({ maxEvents: count, maxBytes: 1 << 16 });
  for (let i = 0; i < count; i++) {
    writer.append('default', `dev-${i}`, new TextEncoder().encode(`{"n":${i}}`), i + 1, 0, 0, 1);
  }
  const frame = writer.bytes().slice();
  return { frame, count, bytes: frame.length - 16 };
}

/** A logger whose messages land in `lines`. */
function capturingLogger(lines: string[]): pino.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line !== '') lines.push((JSON.parse(line) as { msg: string }).msg);
      }
      done();
    },
  });
  return pino({ level: 'info' }, stream);
}

describe('CircuitBreaker in the HTTP sink', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('stops hitting a failing upstream after N failures, probes once per cool-down, and delivers when it recovers', async () => {
    const logs: string[] = [];
    const sink = new HttpSink({
      url: receiver.url,
      // Without the breaker this backoff would send hundreds of requests per second.
      retry: { initialDelayMs: 1, maxDelayMs: 5 },
      breaker: { failureThreshold: 3, cooldownMs: 100, maxCooldownMs: 400 },
      logger: capturingLogger(logs),
    });
    try {
      receiver.setMode({ kind: 'unavailable' });
      const sent = sink.send(batch(5));
      await waitFor(() => sink.breaker.opened >= 4, {
        timeoutMs: 30_000,
        what: 'the breaker to open four times',
      });
      // 3 failures open it; after that, one probe per opening: bounded by openings, not time.
      expect(receiver.requests()).toBeLessThanOrEqual(3 + sink.breaker.opened);
      expect(receiver.requests()).toBeGreaterThanOrEqual(3 + sink.breaker.opened - 1);
      const stats = sink.breaker.stats();
      expect(['open', 'half-open']).toContain(stats.state);
      expect(stats.failures).toBeGreaterThanOrEqual(6);
      expect(stats.retryInMs).toBeLessThanOrEqual(400);

      receiver.setMode({ kind: 'accept' });
      await sent;
      expect(sink.breaker.stats()).toMatchObject({ state: 'closed', failures: 0, retryInMs: 0 });
      expect(receiver.accepted).toHaveLength(1);
      expect(receiver.records().map((record) => record.value)).toEqual(
        [0, 1, 2, 3, 4].map((n) => ({ n })),
      );
      expect(logs).toContain('circuit breaker open: no requests upstream until the cool-down ends');
      expect(logs).toContain('circuit breaker half-open: probing upstream with one batch');
      expect(logs).toContain('circuit breaker closed: upstream answers again');
    } finally {
      await sink.close();
    }
  });

  it('does not open on a refusal: upstream answered, the batch is what is wrong', async () => {
    const sink = new HttpSink({
      url: receiver.url,
      breaker: { failureThreshold: 1, cooldownMs: 60_000, maxCooldownMs: 60_000 },
    });
    try {
      receiver.setMode({ kind: 'status', status: 400, body: 'bad' });
      await expect(sink.send(batch(1))).rejects.toBeInstanceOf(SinkRejectedError);
      expect(sink.breaker.state).toBe('closed');
      receiver.setMode({ kind: 'accept' });
      await sink.send(batch(2));
      expect(receiver.accepted).toHaveLength(1);
    } finally {
      await sink.close();
    }
  });

  it('with failureThreshold 0 never opens', async () => {
    const sink = new HttpSink({
      url: receiver.url,
      retry: { initialDelayMs: 1, maxDelayMs: 2 },
      breaker: { failureThreshold: 0 },
    });
    try {
      receiver.setMode({ kind: 'unavailable' });
      const sent = sink.send(batch(1));
      await waitFor(() => receiver.requests() >= 20, { what: '20 retries' });
      expect(sink.breaker.state).toBe('closed');
      receiver.setMode({ kind: 'accept' });
      await sent;
    } finally {
      await sink.close();
    }
  });
});

describe('CircuitBreaker in a gateway', () => {
  const mosquitto = useMosquitto();
  const start = useTestGateway();

  it('shows the breaker in the stats, bounds requests while open, and loses nothing under QoS 1 load', async () => {
    const { gateway, receiver } = await start(
      {
        mqttUrl: mosquitto().url,
        pipeline: forwardingPipeline(200, 50),
        sink: {
          maxRecords: 50,
          retry: { initialDelayMs: 1, maxDelayMs: 5 },
          breaker: { failureThreshold: 3, cooldownMs: 100, maxCooldownMs: 300 },
        },
      },
      { receiverMode: { kind: 'unavailable' } },
    );
    expect(gateway.stats().pipelines[0]?.breaker).toMatchObject({ state: 'closed', failures: 0 });
    const readings = makeReadings(5, 100, Date.now(), 10);
    await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
    await waitFor(() => (gateway.stats().pipelines[0]?.breaker?.opened ?? 0) >= 3, {
      what: 'the breaker to open three times',
    });
    const breaker = gateway.stats().pipelines[0]?.breaker;
    expect(receiver.requests()).toBeLessThanOrEqual(3 + (breaker?.opened ?? 0));

    receiver.setMode({ kind: 'accept' });
    await waitFor(() => receiver.recordCount() >= readings.length, {
      timeoutMs: 60_000,
      what: 'every reading upstream',
    });
    const upstream = receiver.records().map((record) => JSON.stringify(record.value as Reading));
    expect(new Set(upstream)).toEqual(new Set(readings.map((r) => JSON.stringify(r))));
    expect(gateway.stats().pipelines[0]?.breaker).toMatchObject({ state: 'closed', failures: 0 });
    expect(gateway.stats().deadLetters).toBe(0);
  });
});
