/**
 * At least once across repeated crashes: a gateway with the disk spool is killed with SIGKILL at
 * random moments while devices publish at QoS 1 and upstream accepts or refuses, five times in
 * a row, and restarted each time. Every reading arrives upstream, and a reading that arrives
 * twice carries one id: a record re-sent from the spool keeps its id, and a message the broker
 * redelivers is either skipped (its checkpoint is durable) or its first records never were
 * (docs/delivery.md).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import { startChildGateway } from '../gateway/helpers/child-gateway.js';
import {
  forwardingPipeline,
  makeReadings,
  publishAll,
  readingMessages,
} from '../gateway/helpers/gateway-config.js';
import type { Reading } from '../gateway/helpers/gateway-config.js';
import { useMosquitto, useUpstream } from '../gateway/helpers/gateway-fixture.js';
import { delay, waitFor } from '../gateway/helpers/wait.js';

const KILLS = 5;

describe('Gateway with the disk spool killed repeatedly under QoS 1 load', () => {
  const mosquitto = useMosquitto();
  const upstream = useUpstream();

  it('delivers every reading after five SIGKILLs at random moments', async () => {
    const { receiver } = upstream();
    const config = upstream().config({
      mqttUrl: mosquitto().url,
      clientId: 'sluice-spool-kill-loop',
      pipeline: { ...forwardingPipeline(10_000, 50), spool: { enabled: true } },
      sink: { maxRecords: 50, lingerMs: 5 },
    });
    config.dataDir = join(upstream().dir, 'kill-loop');
    const readings = makeReadings(10, 400, Date.now(), 10);
    const messages = readingMessages(readings);
    const slice = Math.ceil(messages.length / KILLS);
    for (let round = 0; round < KILLS; round++) {
      const child = await startChildGateway(config);
      // Upstream alternates between accepting and refusing, so the crash finds records both
      // in flight upstream and waiting in the spool.
      receiver.setMode(round % 2 === 0 ? { kind: 'accept' } : { kind: 'unavailable' });
      const published = publishAll(
        mosquitto().url,
        messages.slice(round * slice, (round + 1) * slice),
        { qos: 1 },
      );
      await delay(100 + Math.floor(Math.random() * 400));
      await child.kill();
      await published;
    }
    receiver.setMode({ kind: 'accept' });
    const last = await Gateway.start(config);
    try {
      await waitFor(
        () => {
          const arrived = new Set<string>();
          for (const record of receiver.records()) {
            arrived.add(JSON.stringify(record.value as Reading));
          }
          return readings.every((r) => arrived.has(JSON.stringify(r)));
        },
        { what: 'every reading upstream', timeoutMs: 60_000, intervalMs: 200 },
      );
    } finally {
      await last.close();
    }
    const ids = new Map<string, Set<string>>();
    for (const record of receiver.records()) {
      const reading = JSON.stringify(record.value as Reading);
      const seen = ids.get(reading) ?? new Set<string>();
      seen.add(record.id);
      ids.set(reading, seen);
    }
    const twoIds = [...ids].filter(([, seen]) => seen.size > 1).map(([reading]) => reading);
    expect(twoIds).toEqual([]);
  });
});
