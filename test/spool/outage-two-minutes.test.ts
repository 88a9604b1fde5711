/**
 * The long outage, with real processes: the upstream HTTP receiver is down for two
 * minutes under continuous QoS 1 load, the gateway (a child process) spooling to disk with a
 * byte budget. Nothing is lost, the spool stays within its budget (sampled throughout), and once
 * upstream is back the backlog drains while live traffic keeps coming and arriving.
 * About 2.5 minutes; the load is modest (25 readings/s).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spoolBytesOnDisk } from './spool-fixtures.js';
import { startChildGateway } from '../gateway/helpers/child-gateway.js';
import { forwardingPipeline } from '../gateway/helpers/gateway-config.js';
import type { Reading } from '../gateway/helpers/gateway-config.js';
import { useMosquitto, useUpstream } from '../gateway/helpers/gateway-fixture.js';
import { startLoad } from '../gateway/helpers/load.js';
import type { Receiver } from '../gateway/helpers/receiver.js';
import { delay, waitFor } from '../gateway/helpers/wait.js';

const OUTAGE_MS = 120_000;
const MAX_BYTES = 256 * 1024;
const SEGMENT_BYTES = 16 * 1024;
const RATE = 25;

function upstream(receiver: Receiver): Set<string> {
  return new Set(receiver.records().map((record) => JSON.stringify(record.value as Reading)));
}

describe('Gateway with the disk spool through a long upstream outage', () => {
  const mosquitto = useMosquitto();
  const up = useUpstream();

  it('loses nothing through two minutes without upstream under QoS 1 load, stays within its byte budget, and drains while live traffic continues', async () => {
    const { receiver } = up();
    receiver.setMode({ kind: 'unavailable' });
    const config = up().config({
      mqttUrl: mosquitto().url,
      clientId: 'sluice-spool-long-outage',
      pipeline: {
        ...forwardingPipeline(10_000, 100),
        spool: {
          enabled: true,
          maxBytes: MAX_BYTES,
          segmentBytes: SEGMENT_BYTES,
          fsync: 'interval',
        },
      },
    });
    config.dataDir = join(up().dir, 'long-outage');
    const gateway = await startChildGateway(config);
    try {
      const load = await startLoad(mosquitto().url, { ratePerSecond: RATE });
      const spoolBytes: number[] = [];
      const diskBytes: number[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const stats = await gateway.stats();
          spoolBytes.push(stats.pipelines[0]?.spool?.bytes ?? 0);
          diskBytes.push(await spoolBytesOnDisk(config));
          await delay(500);
        }
      })();

      await delay(OUTAGE_MS);
      const during = await gateway.stats();
      const publishedDuringOutage = load.published().length;
      expect(during.sent).toBe(0);
      // The budget filled and ingest paused: the broker holds the rest on the session.
      expect(Math.max(...spoolBytes)).toBeGreaterThan(MAX_BYTES * 0.7);
      expect(during.received).toBeLessThan(publishedDuringOutage);
      expect(during.pipelines[0]?.spool?.oldestAgeMs).toBeGreaterThan(60_000);
      expect(during.pipelines[0]?.sinks[0]?.backlogRecords).toBe(during.outboxDepth);

      receiver.setMode({ kind: 'accept' });
      const beforeRecovery = [...load.published()];
      await waitFor(
        () => {
          const got = upstream(receiver);
          return beforeRecovery.every((r) => got.has(JSON.stringify(r)));
        },
        { timeoutMs: 90_000, intervalMs: 200, what: 'the backlog of the outage upstream' },
      );
      // Live traffic went on during the drain, and keeps arriving after it.
      const afterDrain = load.published().length;
      expect(afterDrain).toBeGreaterThan(beforeRecovery.length);
      await delay(3000);
      const published = await load.stop();
      const live = published.slice(beforeRecovery.length);
      expect(live.length).toBeGreaterThan(RATE);
      await waitFor(
        () => {
          const got = upstream(receiver);
          return published.every((r) => got.has(JSON.stringify(r)));
        },
        { timeoutMs: 60_000, intervalMs: 200, what: 'every reading upstream' },
      );
      sampling = false;
      await sampler;

      // Within budget at every sample: bytes held, and files on disk (one segment of slack).
      expect(Math.max(...spoolBytes)).toBeLessThanOrEqual(MAX_BYTES);
      expect(Math.max(...diskBytes)).toBeLessThanOrEqual(MAX_BYTES + SEGMENT_BYTES);
      const done = await gateway.stats();
      expect(done.deadLetters).toBe(0);
      expect(done.pipelines[0]?.spool?.dropped).toBe(0);
      expect(done.received).toBeGreaterThanOrEqual(published.length);
    } finally {
      await gateway.kill();
    }
  }, 300_000);
});
