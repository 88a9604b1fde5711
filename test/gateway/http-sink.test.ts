/**
 * HttpSink against a real HTTP receiver: the JSON and CBOR bodies, the idempotency key, retries
 * (503 with Retry-After, hanging requests) and refusal (4xx).
 */
import { decode as decodeCbor } from 'cbor-x';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameWriter } from '../../runtime/index.js';
import { SinkRejectedError } from '../../gateway/sinks/errors.js';
import { HttpSink } from '../../gateway/sinks/http-sink.js';
import type { OutboxBatch } from '../../gateway/outbox/outbox.js';
import { startReceiver } from './helpers/receiver.js';
import type { Receiver } from './helpers/receiver.js';

const encoder = new TextEncoder();

function batch(
  records: {
    key: string;
    output: string;
    payload: string | Uint8Array;
    id: number;
    time: number;
    format: number;
  }[],
): OutboxBatch {
  const writer = new FrameWriter({ maxEvents: 100, maxBytes: 1 << 16 });
  for (const r of records) {
    const payload = typeof r.payload === 'string' ? encoder.encode(r.payload) : r.payload;
    writer.append(r.output, r.key, payload, r.id, r.time, 0, r.format);
  }
  const frame = writer.bytes().slice();
  return { frame, count: records.length, bytes: frame.length - 16 };
}

const SAMPLE = batch([
  {
    key: 'dev-1',
    output: 'default',
    payload: '{"avg":21.5,"count":3}',
    id: 0x1234,
    time: 1700000000000,
    format: 1,
  },
  {
    key: 'dev-"2"',
    output: 'alerts',
    payload: 'too hot\n',
    id: 2 ** 40 + 5,
    time: 1700000000001,
    format: 3,
  },
  { key: 'dev-3', output: 'default', payload: '[1,2]', id: 7, time: 0, format: 1 },
]);

/** The records of `SAMPLE` as upstream receives them, in JSON or CBOR alike. */
const SAMPLE_RECORDS = [
  {
    id: '0000000000001234',
    key: 'dev-1',
    time: 1700000000000,
    output: 'default',
    value: { avg: 21.5, count: 3 },
  },
  {
    id: '0000010000000005',
    key: 'dev-"2"',
    time: 1700000000001,
    output: 'alerts',
    value: 'too hot\n',
  },
  { id: '0000000000000007', key: 'dev-3', time: 0, output: 'default', value: [1, 2] },
];

describe('HttpSink', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('posts a JSON array with 16-hex-digit ids and JSON payloads embedded as is', async () => {
    const sink = new HttpSink({ url: receiver.url });
    await sink.send(SAMPLE);
    await sink.send(SAMPLE);
    expect(receiver.accepted).toHaveLength(2);
    const [first, second] = receiver.accepted;
    expect(first?.headers['content-type']).toBe('application/json');
    expect(first?.headers['idempotency-key']).toMatch(/^[0-9a-f]{32}$/);
    expect(second?.headers['idempotency-key']).toBe(first?.headers['idempotency-key']);
    expect(JSON.parse(first?.body.toString() ?? '')).toEqual(SAMPLE_RECORDS);
    await sink.close();
  });

  it('posts CBOR when configured', async () => {
    const sink = new HttpSink({ url: receiver.url, format: 'cbor' });
    await sink.send(SAMPLE);
    const body = receiver.accepted[0];
    expect(body?.headers['content-type']).toBe('application/cbor');
    expect(decodeCbor(body?.body as Buffer)).toEqual(SAMPLE_RECORDS);
    await sink.close();
  });

  it('retries a 503 after the Retry-After delay until upstream accepts', async () => {
    const sink = new HttpSink({ url: receiver.url, retry: { initialDelayMs: 1, maxDelayMs: 5 } });
    receiver.setMode({ kind: 'unavailable', retryAfterSeconds: 1 });
    const started = Date.now();
    const sent = sink.send(SAMPLE);
    while (receiver.requests() < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    receiver.setMode({ kind: 'accept' });
    await sent;
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(receiver.accepted).toHaveLength(1);
    await sink.close();
  });

  it('retries a request that hangs past its timeout', async () => {
    const sink = new HttpSink({
      url: receiver.url,
      timeoutMs: 200,
      retry: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    receiver.setMode({ kind: 'hang' });
    const sent = sink.send(SAMPLE);
    while (receiver.requests() < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    receiver.setMode({ kind: 'accept' });
    await sent;
    expect(receiver.accepted).toHaveLength(1);
    expect(sink.failures).toBeGreaterThanOrEqual(2);
    await sink.close();
  });

  it('refuses a batch upstream rejects with a 4xx, with the status and the body', async () => {
    const sink = new HttpSink({ url: receiver.url });
    receiver.setMode({ kind: 'status', status: 422, body: 'bad record' });
    const error: unknown = await sink.send(SAMPLE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkRejectedError);
    expect(error).toMatchObject({ code: 'SINK_REJECTED', status: 422, body: 'bad record' });
    await sink.close();
  });

  it('stops retrying when its signal aborts', async () => {
    const sink = new HttpSink({ url: receiver.url, retry: { initialDelayMs: 10, maxDelayMs: 20 } });
    receiver.setMode({ kind: 'unavailable' });
    const controller = new AbortController();
    const sent = sink.send(SAMPLE, controller.signal);
    while (receiver.requests() < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error('closing'));
    await expect(sent).rejects.toThrow('closing');
    await sink.close();
  });
});
