/**
 * Several sinks per pipeline, end to end: two real HTTP receivers, one of them down for a while
 * under QoS 1 load. The other receives every reading meanwhile (the dead one does not hold it
 * back); once back, the one that was down receives every reading too. Run with the in-memory
 * outbox and with the disk spool.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import {
  forwardingPipeline,
  makeReadings,
  publishAll,
  readingMessages,
  tempDir,
  testConfig,
} from './helpers/gateway-config.js';
import type { Reading } from './helpers/gateway-config.js';
import { useMosquitto } from './helpers/gateway-fixture.js';
import { startReceiver, type Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';

function values(receiver: Receiver): Set<string> {
  return new Set(receiver.records().map((record) => JSON.stringify(record.value as Reading)));
}

function httpSink(name: string, url: string): Record<string, unknown> {
  return { type: 'http', name, url, lingerMs: 20, retry: { initialDelayMs: 20, maxDelayMs: 200 } };
}

describe('Gateway with two sinks', () => {
  const mosquitto = useMosquitto();
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.each([
    { outbox: 'the in-memory outbox', spool: false },
    { outbox: 'the disk spool', spool: true },
  ])(
    'keeps one sink sending while the other is down, and delivers everything to both ($outbox)',
    async ({ spool }) => {
      const live = await startReceiver();
      const down = await startReceiver();
      const dir = await tempDir();
      cleanups.push(async () => {
        await live.close();
        await down.close();
        await rm(dir, { recursive: true, force: true });
      });
      down.setMode({ kind: 'unavailable' });
      const config = testConfig({
        dataDir: dir,
        sinkUrl: live.url,
        mqttUrl: mosquitto().url,
        pipeline: {
          ...forwardingPipeline(10_000, 100),
          sinks: [httpSink('live', live.url), httpSink('down', down.url)],
          spool: { enabled: spool, fsync: 'never' },
        },
      });
      const gateway = await Gateway.start(config);
      cleanups.push(() => gateway.close());

      const first = makeReadings(10, 60, Date.now(), 10);
      await publishAll(mosquitto().url, readingMessages(first), { qos: 1 });
      await waitFor(() => live.recordCount() >= first.length, {
        what: 'every reading at the live receiver',
      });
      // More readings while one sink is still down: the live one keeps up with them.
      const second = makeReadings(10, 40, Date.now() + 60_000, 10);
      await publishAll(mosquitto().url, readingMessages(second), { qos: 1 });
      const all = [...first, ...second];
      await waitFor(() => live.recordCount() >= all.length, {
        what: 'the later readings at the live receiver',
      });
      // The receiver holds a batch before the gateway has read its 200: wait for that ack.
      const liveSink = (): { backlogRecords: number } | undefined =>
        gateway.stats().pipelines[0]?.sinks.find((sink) => sink.name === 'live');
      await waitFor(() => liveSink()?.backlogRecords === 0, {
        what: 'the live sink acknowledging every batch upstream accepted',
      });
      expect(down.records()).toHaveLength(0);
      const during = gateway.stats().pipelines[0];
      const liveStats = during?.sinks.find((sink) => sink.name === 'live');
      const downStats = during?.sinks.find((sink) => sink.name === 'down');
      expect(liveStats?.backlogRecords).toBe(0);
      expect(liveStats?.sent).toBe(all.length);
      expect(downStats?.backlogRecords).toBe(all.length);
      expect(downStats?.sent).toBe(0);
      expect(downStats?.retries).toBeGreaterThan(0);
      expect(during?.outboxDepth).toBe(all.length);

      down.setMode({ kind: 'accept' });
      await waitFor(() => down.recordCount() >= all.length, {
        timeoutMs: 40_000,
        what: 'every reading at the receiver that was down',
      });
      const expected = new Set(all.map((r) => JSON.stringify(r)));
      expect(values(live)).toEqual(expected);
      expect(values(down)).toEqual(expected);
      await waitFor(() => gateway.stats().outboxDepth === 0, { what: 'the outbox emptied' });
      const after = gateway.stats().pipelines[0]?.sinks.find((sink) => sink.name === 'down');
      expect(after?.sent).toBe(all.length);
      expect(after?.backlogRecords).toBe(0);
    },
  );
});
