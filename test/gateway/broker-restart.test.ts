/**
 * Mosquitto (with persistence) restarted in the middle of a run under continuous QoS 1 load,
 * with the gateway in a child process: the gateway reconnects, its persistent session resumes
 * (the broker kept what was queued for it), and every reading the broker acknowledged to the
 * publisher arrives upstream.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { startChildGateway, type ChildGateway } from './helpers/child-gateway.js';
import { forwardingPipeline, tempDir, testConfig } from './helpers/gateway-config.js';
import type { Reading } from './helpers/gateway-config.js';
import { startLoad } from './helpers/load.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { delay, waitFor } from './helpers/wait.js';

function upstream(receiver: Receiver): Set<string> {
  return new Set(receiver.records().map((record) => JSON.stringify(record.value as Reading)));
}

describe('Gateway across a broker restart', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('reconnects, resumes its persistent session and loses no reading when Mosquitto restarts under QoS 1 load', async () => {
    const broker: Mosquitto = await startMosquitto({
      persistence: true,
      maxInflightMessages: 20,
      maxQueuedMessages: 100_000,
    });
    cleanups.push(() => broker.close());
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const config = testConfig({
      dataDir: dir,
      sinkUrl: receiver.url,
      mqttUrl: broker.url,
      clientId: 'sluice-broker-restart',
      pipeline: forwardingPipeline(200, 50),
    });
    const gateway: ChildGateway = await startChildGateway(config);
    cleanups.push(() => gateway.kill());

    const load = await startLoad(broker.url, { ratePerSecond: 50 });
    await waitFor(() => receiver.recordCount() >= 100, { what: 'readings flowing upstream' });
    // Upstream down: the outbox fills, the gateway stops acknowledging, and the broker queues
    // the rest for the gateway's session — which must survive the restart.
    receiver.setMode({ kind: 'unavailable' });
    await waitFor(async () => (await gateway.stats()).outboxDepth === 200, {
      what: 'the outbox full',
    });
    await delay(1000);
    const beforeRestart = load.published().length;
    const held = beforeRestart - (await gateway.stats()).received;
    expect(held).toBeGreaterThan(20);
    await broker.restart();
    receiver.setMode({ kind: 'accept' });
    // Readings published after the restart flow too: the gateway reconnected.
    await waitFor(() => load.published().length >= beforeRestart + 150, {
      timeoutMs: 30_000,
      what: 'the publisher acknowledged again after the restart',
    });
    const published = await load.stop();
    expect(published.length).toBeGreaterThan(beforeRestart + 100);
    await waitFor(
      () => {
        const got = upstream(receiver);
        return published.every((r) => got.has(JSON.stringify(r)));
      },
      { timeoutMs: 60_000, what: 'every acknowledged reading upstream' },
    );
    const stats = await gateway.stats();
    // The messages in flight to the gateway when the broker stopped came again (at least once).
    expect(stats.received).toBeGreaterThanOrEqual(published.length);
    expect(stats.deadLetters).toBe(0);
  }, 120_000);
});
