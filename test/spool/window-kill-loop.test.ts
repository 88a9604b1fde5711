/**
 * No window aggregate lost or doubled across crashes: a gateway running window-stats (event
 * time, tumbling windows) with the disk spool is killed with SIGKILL at random moments, ten
 * times, while a publisher sends QoS 1 readings, and restarted each time on the same spool and
 * persistent session. Upstream ends up with every window result computed offline, each with
 * exactly the expected count, sum, min, max and avg; a result that arrives twice carries the
 * same id both times. The same with the rules on two worker threads (five kills): their states
 * are checkpointed in the spool too.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../gateway/gateway.js';
import { startChildGateway } from '../gateway/helpers/child-gateway.js';
import {
  expectedWindows,
  makeReadings,
  publishAll,
  readingMessages,
} from '../gateway/helpers/gateway-config.js';
import type { Reading, WindowResult } from '../gateway/helpers/gateway-config.js';
import { useMosquitto, useUpstream } from '../gateway/helpers/gateway-fixture.js';
import { useWorkerEntry } from '../gateway/helpers/worker-entry.js';
import type { Receiver } from '../gateway/helpers/receiver.js';
import { delay, waitFor } from '../gateway/helpers/wait.js';

const DEVICES = 20;
const READINGS_PER_DEVICE = 120;
const STEP_MS = 100;
const WINDOW_MS = 1000;

/** Window results upstream (the rule's default output), grouped by device and window start. */
function resultsUpstream(receiver: Receiver): Map<string, { id: string; value: WindowResult }[]> {
  const byWindow = new Map<string, { id: string; value: WindowResult }[]>();
  for (const record of receiver.records()) {
    if (record.output !== 'default') continue;
    const value = record.value as WindowResult;
    const name = `${value.key}@${value.start}`;
    const copies = byWindow.get(name) ?? [];
    copies.push({ id: record.id, value });
    byWindow.set(name, copies);
  }
  return byWindow;
}

function sameResult(a: WindowResult, b: WindowResult): boolean {
  return (
    a.key === b.key &&
    a.start === b.start &&
    a.end === b.end &&
    a.count === b.count &&
    a.sum === b.sum &&
    a.min === b.min &&
    a.max === b.max &&
    a.avg === b.avg
  );
}

describe.each([
  { where: 'on the gateway thread', workers: 0, kills: 10 },
  { where: 'on two workers', workers: 2, kills: 5 },
])(
  'Gateway running window-stats $where with the disk spool, killed repeatedly under QoS 1 load',
  ({ workers, kills }) => {
    const mosquitto = useMosquitto();
    const upstream = useUpstream();
    const workerEntry = useWorkerEntry();

    it(`ends with exactly the offline window results after ${kills} SIGKILLs, none lost or doubled`, async () => {
      const KILLS = kills;
      const { receiver } = upstream();
      const config = upstream().config({
        mqttUrl: mosquitto().url,
        clientId: `sluice-window-kill-loop-${workers}`,
        pipeline: {
          ...(workers === 0 ? {} : { workers: { count: workers } }),
          rules: [
            {
              module: 'window-stats',
              config: { field: 'temp', timeField: 'ts', windowMs: WINDOW_MS },
            },
          ],
          batch: { maxEvents: 50, lingerMs: 5 },
          spool: { enabled: true },
        },
        sink: { maxRecords: 50, lingerMs: 5 },
      });
      config.dataDir = join(upstream().dir, 'window-kill-loop');
      // Event times an hour ahead: no tick closes a window; a device's window closes on its
      // first reading of a later window (or at flush).
      const start = Date.now() + 3_600_000;
      const readings = makeReadings(DEVICES, READINGS_PER_DEVICE, start, STEP_MS);
      const expected = expectedWindows(readings, WINDOW_MS);
      // One more reading per device, in a later window, closes every expected window.
      const closing: Reading[] = [];
      for (let d = 0; d < DEVICES; d++) {
        closing.push({
          device: `dev-${d}`,
          ts: start + READINGS_PER_DEVICE * STEP_MS + 5 * WINDOW_MS,
          temp: 20,
        });
      }
      const messages = readingMessages(readings);
      const slice = Math.ceil(messages.length / KILLS);

      for (let round = 0; round < KILLS; round++) {
        const child = await startChildGateway(config);
        const published = publishAll(
          mosquitto().url,
          messages.slice(round * slice, (round + 1) * slice),
          { qos: 1 },
        );
        // Kill it while it works: once it took messages, after a random further moment.
        await waitFor(async () => (await child.stats()).received > 0, {
          what: `round ${round}: the gateway receiving readings`,
          timeoutMs: 30_000,
          intervalMs: 20,
        });
        await delay(Math.floor(Math.random() * 300));
        await child.kill();
        await published;
      }
      await publishAll(mosquitto().url, readingMessages(closing), { qos: 1 });

      const last = await Gateway.start(config, workers === 0 ? {} : { workerEntry: workerEntry() });
      try {
        await waitFor(
          () => {
            const upstreamNow = resultsUpstream(receiver);
            return expected.every((w) => upstreamNow.has(`${w.key}@${w.start}`));
          },
          { what: 'every expected window result upstream', timeoutMs: 60_000, intervalMs: 100 },
        );
      } finally {
        await last.close();
      }

      const upstreamNow = resultsUpstream(receiver);
      const closingWindows = new Set(
        closing.map((r) => `${r.device}@${Math.floor(r.ts / WINDOW_MS) * WINDOW_MS}`),
      );
      const wrong: string[] = [];
      for (const window of expected) {
        const name = `${window.key}@${window.start}`;
        const copies = upstreamNow.get(name) ?? [];
        if (copies.length === 0) wrong.push(`${name}: missing`);
        for (const copy of copies) {
          if (!sameResult(copy.value, window)) {
            wrong.push(
              `${name}: got ${JSON.stringify(copy.value)}, expected ${JSON.stringify(window)}`,
            );
          }
          if (copy.id !== (copies[0] as { id: string }).id)
            wrong.push(`${name}: a copy with another id`);
        }
      }
      const expectedNames = new Set(expected.map((w) => `${w.key}@${w.start}`));
      for (const name of upstreamNow.keys()) {
        if (!expectedNames.has(name) && !closingWindows.has(name))
          wrong.push(`${name}: unexpected`);
      }
      expect(wrong).toEqual([]);
    }, 120_000);
  },
);
