/**
 * A pipeline whose rules run on two worker threads, end to end through Mosquitto: each
 * device's readings reach upstream in the order they were published, and threshold →
 * window-stats gives exactly the per-device window results computed offline, as on the
 * gateway thread, whether the windows close on later readings, on close() or on the rule tick.
 */
import { describe, expect, it } from 'vitest';
import {
  THRESHOLD_RULE,
  expectedWindows,
  makeReadings,
  publishAll,
  readingMessages,
  sortWindows,
} from './helpers/gateway-config.js';
import type { WindowResult } from './helpers/gateway-config.js';
import { useMosquitto, useTestGateway } from './helpers/gateway-fixture.js';
import { waitFor } from './helpers/wait.js';
import { useWorkerEntry } from './helpers/worker-entry.js';

const WINDOW_MS = 1000;
const WORKERS = { count: 2, ruleTimeoutMs: 5000 };

describe('Gateway with rules on two workers', () => {
  const mosquitto = useMosquitto();
  const start = useTestGateway();
  const workerEntry = useWorkerEntry();

  it('delivers each device’s readings upstream in the order they were published', async () => {
    const { gateway, receiver } = await start(
      {
        mqttUrl: mosquitto().url,
        pipeline: {
          rules: [THRESHOLD_RULE],
          batch: { maxEvents: 64, lingerMs: 2 },
          workers: WORKERS,
        },
      },
      {
        workerEntry: workerEntry(),
        // The metrics registry exists with the API on.
        configure: (config) => {
          config.api = { ...config.api, enabled: true, port: 0, token: 'workers-test-token' };
        },
      },
    );
    // Sequence numbers per device in `ts`: 16 devices spread over both workers.
    const readings = makeReadings(16, 150, 1, 1);
    await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
    await waitFor(() => receiver.recordCount() === readings.length, {
      what: 'every reading upstream',
    });
    const seen = new Map<string, number[]>();
    for (const record of receiver.records()) {
      const value = record.value as { device: string; ts: number };
      const list = seen.get(value.device) ?? [];
      list.push(value.ts);
      seen.set(value.device, list);
    }
    expect(seen.size).toBe(16);
    for (const list of seen.values()) expect(list).toEqual(list.map((_, i) => i + 1));
    expect(gateway.stats().batches).toBeGreaterThan(1);
    // Both workers ran rules.
    const metrics = await (gateway.metrics as NonNullable<typeof gateway.metrics>).metrics();
    for (const partition of ['0', '1'])
      expect(metrics).toMatch(
        new RegExp(
          `sluice_rule_partition_memory_pages\\{[^}]*partition="${partition}"[^}]*\\} [1-9]`,
        ),
      );
  });

  it('turns readings into exactly the expected per-device window results', async () => {
    const { gateway, receiver } = await start(
      {
        mqttUrl: mosquitto().url,
        pipeline: {
          rules: [
            THRESHOLD_RULE,
            {
              module: 'window-stats',
              config: { field: 'temp', timeField: 'ts', windowMs: WINDOW_MS },
            },
          ],
          workers: WORKERS,
        },
      },
      { workerEntry: workerEntry() },
    );
    // Event times an hour ahead: no tick closes a window early; the rest close on close().
    const readings = makeReadings(20, 60, Date.now() + 3_600_000, 100);
    await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
    await waitFor(() => gateway.stats().received === readings.length, {
      what: 'every reading received',
    });
    await gateway.close();
    const stats = gateway.stats();
    expect(stats.processed).toBe(readings.length);
    expect(stats.deadLetters).toBe(0);
    const windows = sortWindows(receiver.records().map((r) => r.value as WindowResult));
    expect(windows).toEqual(expectedWindows(readings, WINDOW_MS));
    expect(stats.sent).toBe(receiver.recordCount());
  });

  it('closes windows on the rule tick when no more readings arrive', async () => {
    const { receiver } = await start(
      {
        mqttUrl: mosquitto().url,
        pipeline: {
          tickIntervalMs: 50,
          rules: [
            THRESHOLD_RULE,
            {
              module: 'window-stats',
              config: { field: 'temp', timeField: 'ts', windowMs: WINDOW_MS, graceMs: 0 },
            },
          ],
          workers: WORKERS,
        },
      },
      { workerEntry: workerEntry() },
    );
    // Event times in the past, so every window is due at the next tick; one reading per device
    // and window, so that no tick can close a window before all its readings arrived.
    const readings = makeReadings(8, 4, Date.now() - 60_000, WINDOW_MS);
    await publishAll(mosquitto().url, readingMessages(readings), { qos: 1 });
    const expected = expectedWindows(readings, WINDOW_MS);
    await waitFor(() => receiver.recordCount() >= expected.length, {
      what: 'every window upstream before close',
    });
    expect(receiver.records().every((r) => r.output === 'default')).toBe(true);
    expect(sortWindows(receiver.records().map((r) => r.value as WindowResult))).toEqual(expected);
  });
});
