/**
 * The disk spool end to end, against Mosquitto, a real HTTP receiver and a gateway in a child
 * process killed with SIGKILL: records acknowledged to the broker survive the crash and are
 * delivered by the restarted gateway; a corrupted segment is reported and skipped and the records
 * after it are delivered; the byte budget holds under an upstream outage, with `block` (nothing
 * lost) and `drop-oldest` (what upstream misses is exactly what was counted as dropped).
 */
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import { spoolBytesOnDisk } from './spool-fixtures.js';
import { startChildGateway, type ChildGateway } from '../gateway/helpers/child-gateway.js';
import {
  forwardingPipeline,
  makeReadings,
  publishAll,
  readingMessages,
} from '../gateway/helpers/gateway-config.js';
import type { Reading } from '../gateway/helpers/gateway-config.js';
import { useMosquitto, useUpstream } from '../gateway/helpers/gateway-fixture.js';
import type { Receiver } from '../gateway/helpers/receiver.js';
import { delay, waitFor } from '../gateway/helpers/wait.js';

function spooledPipeline(spool: Record<string, unknown>): Record<string, unknown> {
  return { ...forwardingPipeline(10_000, 100), spool: { enabled: true, ...spool } };
}

/** The readings upstream received (JSON of the values), and how often each id arrived. */
function upstreamReadings(receiver: Receiver): { values: Set<string>; ids: Map<string, string> } {
  const values = new Set<string>();
  const ids = new Map<string, string>();
  for (const record of receiver.records()) {
    const value = JSON.stringify(record.value as Reading);
    // A duplicate (a replay after the crash) carries the id of its original.
    const known = ids.get(value);
    if (known !== undefined) expect(record.id).toBe(known);
    ids.set(value, record.id);
    values.add(value);
  }
  return { values, ids };
}

/**
 * Waits until `count` records are durable in the child's spool and every message is acknowledged,
 * so the broker will not redeliver any of them (a redelivered event would get a new id).
 */
async function spooledAndAcknowledged(child: ChildGateway, count: number): Promise<void> {
  await waitFor(
    async () => {
      const stats = await child.stats();
      return stats.outboxDepth === count && stats.awaitingAck === 0;
    },
    { what: 'every reading in the spool and acknowledged' },
  );
}

function missing(readings: readonly Reading[], values: Set<string>): Reading[] {
  return readings.filter((r) => !values.has(JSON.stringify(r)));
}

describe('Gateway with the disk spool', () => {
  const mosquitto = useMosquitto();
  const upstream = useUpstream();

  it('delivers every record it acknowledged before a SIGKILL after the restart, duplicates carrying their original id', async () => {
    const { receiver } = upstream();
    receiver.setMode({ kind: 'unavailable' });
    const config = upstream().config({
      mqttUrl: mosquitto().url,
      clientId: 'sluice-spool-kill',
      pipeline: spooledPipeline({}),
    });
    config.dataDir = join(upstream().dir, 'kill');
    const first = await startChildGateway(config);
    const readings = makeReadings(5, 200, Date.now(), 10);
    await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
    // Upstream refuses everything; the spool takes it all (far below its byte budget), so every
    // message is acknowledged to the broker: only the spool can deliver them after the kill.
    await spooledAndAcknowledged(first, readings.length);
    await first.kill();

    receiver.setMode({ kind: 'accept' });
    const second = await Gateway.start(config);
    try {
      await waitFor(() => missing(readings, upstreamReadings(receiver).values).length === 0, {
        what: 'every reading upstream',
      });
      expect(second.stats().received).toBe(0);
    } finally {
      await second.close();
    }
    receiver.accepted.length = 0;
  });

  it('reports and skips a segment corrupted on disk, and delivers the records after it', async () => {
    const { receiver } = upstream();
    receiver.setMode({ kind: 'unavailable' });
    const config = upstream().config({
      mqttUrl: mosquitto().url,
      clientId: 'sluice-spool-corrupt',
      pipeline: spooledPipeline({ segmentBytes: 16384 }),
    });
    config.dataDir = join(upstream().dir, 'corrupt');
    const first = await startChildGateway(config);
    const readings = makeReadings(5, 200, Date.now(), 10);
    await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
    await spooledAndAcknowledged(first, readings.length);
    await first.kill();
    const dir = join(config.dataDir, 'spool', 'test');
    const segments = (await readdir(dir)).filter((name) => name.endsWith('.seg')).sort();
    expect(segments.length).toBeGreaterThanOrEqual(4);
    const victim = join(dir, segments[1] as string);
    await writeFile(victim, Buffer.alloc((await stat(victim)).size, 0x5a));

    receiver.setMode({ kind: 'accept' });
    const second = await Gateway.start(config);
    try {
      const last = readings.at(-1) as Reading;
      await waitFor(() => upstreamReadings(receiver).values.has(JSON.stringify(last)), {
        what: 'the last reading upstream',
      });
      await waitFor(() => second.stats().outboxDepth === 0, { what: 'the spool to drain' });
      const lost = missing(readings, upstreamReadings(receiver).values);
      const spoolStats = second.stats().pipelines[0]?.spool;
      expect(lost.length).toBeGreaterThan(0);
      expect(spoolStats?.corruptRecords).toBe(lost.length);
      // Only the corrupted segment's records are missing: one contiguous run, not the tail.
      const firstLost = readings.indexOf(lost[0] as Reading);
      expect(lost).toEqual(readings.slice(firstLost, firstLost + lost.length));
      expect(firstLost + lost.length).toBeLessThan(readings.length);
    } finally {
      await second.close();
    }
    receiver.accepted.length = 0;
  });

  it('stays within its byte budget through a 10 s upstream outage under load and drains the backlog after it, losing nothing (block)', async () => {
    const { receiver } = upstream();
    receiver.setMode({ kind: 'unavailable' });
    const maxBytes = 256 * 1024;
    const config = upstream().config({
      mqttUrl: mosquitto().url,
      clientId: 'sluice-spool-outage',
      pipeline: spooledPipeline({ maxBytes, segmentBytes: 16384, fsync: 'always' }),
    });
    config.dataDir = join(upstream().dir, 'outage');
    const gateway = await Gateway.start(config);
    try {
      const readings = makeReadings(10, 300, Date.now(), 10); // 3000 readings, ~500 KB spooled
      let peakBytes = 0;
      let peakDisk = 0;
      const watch = setInterval(() => {
        peakBytes = Math.max(peakBytes, gateway.stats().pipelines[0]?.spool?.bytes ?? 0);
        void spoolBytesOnDisk(config).then((disk) => (peakDisk = Math.max(peakDisk, disk)));
      }, 50);
      const messages = readingMessages(readings);
      const outageEnds = Date.now() + 10_000;
      // Publish in slices across the outage: live traffic keeps coming.
      for (let i = 0; i < messages.length; i += 300) {
        await publishAll(mosquitto().url, messages.slice(i, i + 300), { qos: 1 });
        await delay(400);
      }
      await delay(Math.max(0, outageEnds - Date.now()));
      const during = gateway.stats();
      expect(during.sent).toBe(0);
      expect(during.received).toBeLessThan(readings.length); // the broker holds the rest
      // Visible: the backlog's age, its bytes, and the failed attempts.
      expect(during.pipelines[0]?.spool?.oldestAgeMs).toBeGreaterThan(5_000);
      expect(during.pipelines[0]?.sinkFailures).toBeGreaterThan(0);
      receiver.setMode({ kind: 'accept' });
      await waitFor(() => missing(readings, upstreamReadings(receiver).values).length === 0, {
        what: 'every reading upstream after the outage',
        timeoutMs: 60_000,
      });
      clearInterval(watch);
      expect(peakBytes).toBeGreaterThan(maxBytes / 2);
      expect(peakBytes).toBeLessThanOrEqual(maxBytes);
      expect(peakDisk).toBeLessThanOrEqual(maxBytes + 16384);
    } finally {
      await gateway.close();
    }
    receiver.accepted.length = 0;
  });

  it('with drop-oldest and a full budget, drops exactly the records upstream misses, counted', async () => {
    const { receiver } = upstream();
    receiver.setMode({ kind: 'unavailable' });
    const config = upstream().config({
      mqttUrl: mosquitto().url,
      clientId: 'sluice-spool-drop',
      pipeline: spooledPipeline({ maxBytes: 131072, segmentBytes: 16384, onFull: 'drop-oldest' }),
    });
    config.dataDir = join(upstream().dir, 'drop');
    const gateway = await Gateway.start(config);
    try {
      const readings = makeReadings(10, 200, Date.now(), 10);
      await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
      // drop-oldest never blocks: every message is received and acknowledged.
      await waitFor(() => gateway.stats().received === readings.length, {
        what: 'every reading received',
      });
      await waitFor(() => gateway.stats().outputRecords === readings.length, {
        what: 'every output offered to the spool',
      });
      const dropped = gateway.stats().pipelines[0]?.spool?.dropped ?? 0;
      expect(dropped).toBeGreaterThan(0);
      receiver.setMode({ kind: 'accept' });
      await waitFor(() => gateway.stats().outboxDepth === 0, { what: 'the spool to drain' });
      const lost = missing(readings, upstreamReadings(receiver).values);
      expect(lost.length).toBe(gateway.stats().pipelines[0]?.spool?.dropped);
      // The oldest went (after the batch the forwarder holds in flight, retrying): one run.
      const firstLost = readings.indexOf(lost[0] as Reading);
      expect(firstLost).toBeLessThanOrEqual(500);
      expect(lost).toEqual(readings.slice(firstLost, firstLost + lost.length));
    } finally {
      await gateway.close();
    }
    receiver.accepted.length = 0;
  });
});
