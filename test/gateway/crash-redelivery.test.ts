/**
 * At-least-once across a crash: a gateway killed (SIGKILL) while upstream refuses its batches
 * never acknowledged the messages whose records were not accepted by its outbox, so the broker
 * redelivers them on the persistent session to the next gateway with the same client id. The
 * same holds with the rules on two worker threads.
 */
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import { startChildGateway } from './helpers/child-gateway.js';
import {
  forwardingPipeline,
  makeReadings,
  publishAll,
  readingMessages,
} from './helpers/gateway-config.js';
import type { Reading } from './helpers/gateway-config.js';
import { useMosquitto, useUpstream } from './helpers/gateway-fixture.js';
import { waitFor } from './helpers/wait.js';
import { useWorkerEntry } from './helpers/worker-entry.js';

const OUTBOX = 50;

describe('Gateway killed before upstream accepted its records', () => {
  const mosquitto = useMosquitto();
  const upstream = useUpstream();
  const workerEntry = useWorkerEntry();

  it.each([
    { where: 'on the gateway thread', workers: 0 },
    { where: 'on two workers', workers: 2 },
  ])(
    'gets its unacknowledged messages redelivered by Mosquitto to the restarted gateway (rules $where)',
    async ({ workers }) => {
      const { receiver } = upstream();
      // The receiver is the suite's: only what arrives from here on counts.
      const offset = receiver.recordCount();
      const fresh = (): ReturnType<typeof receiver.records> => receiver.records().slice(offset);
      receiver.setMode({ kind: 'unavailable' });
      const config = upstream().config({
        mqttUrl: mosquitto().url,
        clientId: `sluice-crash-test-${workers}`,
        pipeline: {
          ...forwardingPipeline(OUTBOX, 20),
          workers: { count: workers, ruleTimeoutMs: 5000 },
        },
      });
      const first = await startChildGateway(config);
      const readings = makeReadings(4, 100, Date.now(), 10);
      await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
      // Upstream refuses everything: the outbox fills, ingest stops, the rest stays unacknowledged.
      await waitFor(async () => (await first.stats()).outboxDepth === OUTBOX, {
        what: 'the outbox to fill',
      });
      const atKill = await first.stats();
      expect(atKill.sent).toBe(0);
      expect(atKill.received).toBeLessThan(readings.length);
      await first.kill();

      receiver.setMode({ kind: 'accept' });
      const second = await Gateway.start(config, { workerEntry: workerEntry() });
      try {
        // Nothing is published any more: whatever arrives now was redelivered by the broker.
        await waitFor(
          () => fresh().length >= readings.length - OUTBOX && second.stats().outboxDepth === 0,
          {
            what: 'the redelivered readings upstream',
          },
        );
        await second.close();
        expect(second.stats().received).toBeGreaterThanOrEqual(readings.length - OUTBOX);
        const upstream = new Set(fresh().map((record) => JSON.stringify(record.value as Reading)));
        const missing = readings.filter((r) => !upstream.has(JSON.stringify(r)));
        // Only what the killed gateway's in-memory outbox held (its acknowledged batches) is lost:
        // at most its capacity, and only the earliest readings (the outbox is FIFO).
        expect(missing.length).toBeLessThanOrEqual(OUTBOX);
        expect(missing).toEqual(readings.slice(0, missing.length));
      } finally {
        await second.close();
      }
    },
  );
});
