/**
 * The forwarder's adaptive drain against a real HTTP receiver: the batches in flight grow while
 * the receiver keeps up, shrink when it fails or slows down, nothing is lost, and records leave
 * the outbox in the order they were taken even when a later batch is accepted first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeadLetterFile } from '../../gateway/dead-letter/dead-letter-file.js';
import { MemoryOutbox } from '../../gateway/outbox/memory-outbox.js';
import { Counters } from '../../gateway/pipeline/counters.js';
import type { AdaptiveConcurrencyOptions } from '../../gateway/sinks/adaptive-concurrency.js';
import type { CircuitBreakerOptions } from '../../gateway/sinks/circuit-breaker.js';
import { Forwarder } from '../../gateway/sinks/forwarder.js';
import { HttpSink } from '../../gateway/sinks/http-sink.js';
import { startReceiver, type Receiver } from '../gateway/helpers/receiver.js';
import { delay, waitFor } from '../gateway/helpers/wait.js';
import { numberedFrame, range } from '../spool/spool-fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Rig {
  receiver: Receiver;
  outbox: MemoryOutbox;
  forwarder: Forwarder;
  sink: HttpSink;
}

async function rig(
  drain: AdaptiveConcurrencyOptions,
  breaker: CircuitBreakerOptions = { failureThreshold: 0 },
): Promise<Rig> {
  const receiver = await startReceiver();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-drain-'));
  const deadLetters = await DeadLetterFile.open(join(dir, 'dead.jsonl'));
  const outbox = new MemoryOutbox({ capacity: 100_000 });
  const sink = new HttpSink({
    url: receiver.url,
    maxRecords: 10,
    lingerMs: 0,
    retry: { initialDelayMs: 10, maxDelayMs: 50 },
    breaker,
  });
  const forwarder = new Forwarder({
    pipeline: 'p',
    outbox,
    sink,
    deadLetters,
    counters: new Counters(),
    sinkName: 'up',
    drain,
  });
  forwarder.start();
  cleanups.push(async () => {
    await forwarder.drain(0);
    await sink.close();
    await deadLetters.close();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { receiver, outbox, forwarder, sink };
}

function offer(outbox: MemoryOutbox, firstId: number, count: number): void {
  for (let id = firstId; id < firstId + count; id += 10) {
    expect(outbox.offer(numberedFrame(id, 10))).toBe(10);
  }
}

/** The ids upstream received, sorted, and whether any arrived twice. */
function receivedIds(receiver: Receiver): { ids: number[]; unique: boolean } {
  const ids = receiver.records().map((record) => (record.value as { n: number }).n);
  return { ids: [...ids].sort((a, b) => a - b), unique: new Set(ids).size === ids.length };
}

/** Samples `read` every few ms until stopped; returns the samples. */
function sample(read: () => number): { stop(): number[] } {
  const values: number[] = [];
  const timer = setInterval(() => values.push(read()), 5);
  return {
    stop() {
      clearInterval(timer);
      return values;
    },
  };
}

describe('Adaptive drain', () => {
  it('grows the batches in flight up to maxInFlight while the receiver keeps up, losing nothing', async () => {
    const { receiver, outbox, forwarder } = await rig({ maxInFlight: 4, latencyTargetMs: 1000 });
    receiver.setMode({ kind: 'slow', delayMs: 20 });
    offer(outbox, 1, 2000);
    await waitFor(() => outbox.depth === 0, { what: 'every record sent' });
    expect(forwarder.peakConcurrency).toBe(4);
    expect(receiver.peakConcurrent()).toBeGreaterThan(1);
    expect(receiver.peakConcurrent()).toBeLessThanOrEqual(4);
    expect(receivedIds(receiver)).toEqual({ ids: range(1, 2001), unique: true });
    expect(forwarder.sent).toBe(2000);
  });

  it('cuts the batches in flight when the receiver fails, then grows again, losing nothing', async () => {
    const { receiver, outbox, forwarder } = await rig({ maxInFlight: 4, latencyTargetMs: 1000 });
    receiver.setMode({ kind: 'slow', delayMs: 20 });
    offer(outbox, 1, 3000);
    await waitFor(() => forwarder.concurrency === 4, { what: 'the drain at 4 in flight' });
    receiver.setMode({ kind: 'unavailable' });
    await waitFor(() => receiver.requests() > 20, { what: 'failed requests' });
    receiver.setMode({ kind: 'slow', delayMs: 20 });
    const after = sample(() => forwarder.concurrency);
    await waitFor(() => outbox.depth === 0, { what: 'every record sent' });
    const limits = after.stop();
    expect(forwarder.concurrencyDecreases).toBeGreaterThan(0);
    expect(Math.min(...limits)).toBeLessThan(4);
    expect(limits.at(-1)).toBeGreaterThan(Math.min(...limits));
    expect(receivedIds(receiver)).toEqual({ ids: range(1, 3001), unique: true });
  });

  it('falls back to one batch in flight while each send takes longer than latencyTargetMs', async () => {
    const { receiver, outbox, forwarder } = await rig({ maxInFlight: 4, latencyTargetMs: 100 });
    receiver.setMode({ kind: 'slow', delayMs: 5 });
    offer(outbox, 1, 1000);
    await waitFor(() => forwarder.concurrency === 4, { what: 'the drain at 4 in flight' });
    receiver.setMode({ kind: 'slow', delayMs: 250 });
    await waitFor(() => forwarder.concurrency === 1, { what: 'the drain back at 1 in flight' });
    receiver.setMode({ kind: 'slow', delayMs: 5 });
    await waitFor(() => outbox.depth === 0, { what: 'every record sent' });
    expect(receivedIds(receiver)).toEqual({ ids: range(1, 1001), unique: true });
  });

  it('keeps records in the outbox until every earlier batch was accepted too', async () => {
    const { receiver, outbox, forwarder } = await rig({
      maxInFlight: 4,
      initialInFlight: 4,
      latencyTargetMs: 5000,
    });
    // The first request is slow; the three sent with it are accepted at once.
    receiver.setMode({ kind: 'slow', delayMs: (request) => (request === 1 ? 1500 : 5) });
    offer(outbox, 1, 40);
    await waitFor(() => receiver.recordCount() === 30, { what: 'the later batches accepted' });
    await delay(200);
    expect(outbox.depth).toBe(40);
    expect(forwarder.reader.depth).toBe(40);
    await waitFor(() => outbox.depth === 0, { what: 'the first batch accepted' });
    expect(receivedIds(receiver)).toEqual({ ids: range(1, 41), unique: true });
  });

  it('sends one batch at a time with maxInFlight 1', async () => {
    const { receiver, outbox, forwarder } = await rig({ maxInFlight: 1 });
    receiver.setMode({ kind: 'slow', delayMs: 10 });
    offer(outbox, 1, 300);
    await waitFor(() => outbox.depth === 0, { what: 'every record sent' });
    expect(receiver.peakConcurrent()).toBe(1);
    expect(forwarder.peakConcurrency).toBe(1);
    // One at a time: upstream got the batches in order.
    const ids = receiver.records().map((record) => (record.value as { n: number }).n);
    expect(ids).toEqual(range(1, 301));
  });

  it('lets a single probe through while the breaker is half-open, whatever the batches in flight', async () => {
    const { receiver, outbox, sink } = await rig(
      { maxInFlight: 4, initialInFlight: 4, latencyTargetMs: 5000 },
      { failureThreshold: 2, cooldownMs: 300, maxCooldownMs: 300 },
    );
    receiver.setMode({ kind: 'unavailable' });
    offer(outbox, 1, 200);
    await waitFor(() => sink.breaker.state === 'open', { what: 'the breaker open' });
    await delay(20);
    const before = receiver.requests();
    receiver.setMode({ kind: 'slow', delayMs: 600 });
    receiver.resetPeakConcurrent();
    await waitFor(() => receiver.requests() > before, { what: 'the probe' });
    await delay(300);
    // The probe is still being answered: the other batches in flight wait for its outcome.
    expect(receiver.accepted).toHaveLength(0);
    expect(receiver.peakConcurrent()).toBe(1);
    await waitFor(() => outbox.depth === 0, { what: 'every record sent' });
    expect(receivedIds(receiver)).toEqual({ ids: range(1, 201), unique: true });
  });
});
