/**
 * @module Test helper: a resolved gateway configuration (through the real config resolver) for
 * a temporary data directory, plus MQTT publishing and reading helpers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import type { IClientOptions } from 'mqtt';
import { resolveConfig } from '../../../gateway/config/index.js';
import type { Config } from '../../../gateway/config/index.js';
import { WindowReference } from '../../../bench/window-reference.js';
import type { WindowResult } from '../../../bench/window-reference.js';

export type { WindowResult };

/** A fresh temporary directory. */
export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'sluice-gw-'));
}

/** Options of {@link testConfig}. */
export interface TestConfigOptions {
  dataDir: string;
  sinkUrl: string;
  /** Broker URL; empty → the embedded broker on `embeddedPort`. */
  mqttUrl?: string;
  embeddedPort?: number;
  clientId?: string;
  protocolVersion?: 4 | 5;
  /** The pipeline section (merged over test defaults). */
  pipeline?: Record<string, unknown>;
  /** The sink section (merged over test defaults). */
  sink?: Record<string, unknown>;
}

/** A resolved configuration for one pipeline on `sensors/+/reading`. */
export function testConfig(options: TestConfigOptions): Config {
  return resolveConfig({
    dataDir: options.dataDir,
    mqtt: {
      url: options.mqttUrl ?? '',
      clientId: options.clientId ?? `sluice-test-${randomUUID().slice(0, 8)}`,
      clean: false,
      protocolVersion: options.protocolVersion ?? 4,
      reconnectPeriodMs: 200,
      embedded: { host: '127.0.0.1', port: options.embeddedPort ?? 0 },
    },
    pipelines: [
      {
        name: 'test',
        topics: ['sensors/+/reading'],
        qos: 1,
        keyLevel: 1,
        // A pipeline section with its own `sinks:` list replaces the default sink.
        ...(options.pipeline?.['sinks'] === undefined
          ? {
              sink: {
                type: 'http',
                url: options.sinkUrl,
                lingerMs: 20,
                retry: { initialDelayMs: 20, maxDelayMs: 200 },
                ...options.sink,
              },
            }
          : {}),
        ...options.pipeline,
      },
    ],
    deadLetter: { path: join(options.dataDir, 'dead', 'dead-letter.jsonl') },
    log: { level: 'silent' },
  });
}

/** The threshold rule on `temp` (-40..125 °C): forwards every valid reading as it is. */
export const THRESHOLD_RULE = {
  module: 'threshold',
  config: { field: 'temp', min: -40, max: 125 },
} as const;

/**
 * A pipeline section in which threshold forwards every reading (one output record per event:
 * it fills the outbox fast) into an in-memory outbox of `outboxMaxRecords` (the spool off), in
 * batches of at most `maxEvents` that linger 5 ms.
 */
export function forwardingPipeline(
  outboxMaxRecords: number,
  maxEvents: number,
): Record<string, unknown> {
  return {
    rules: [THRESHOLD_RULE],
    outboxMaxRecords,
    batch: { maxEvents, lingerMs: 5 },
    spool: { enabled: false },
  };
}

/** One reading as devices publish it. */
export interface Reading {
  device: string;
  ts: number;
  temp: number;
}

/** Publishes `payloads` (topic, bytes) with one MQTT.js client and waits for the broker's acks. */
export async function publishAll(
  url: string,
  messages: readonly { topic: string; payload: string | Buffer }[],
  options: { qos?: 0 | 1 | 2; protocolVersion?: 4 | 5 } = {},
): Promise<void> {
  const clientOptions: IClientOptions = {
    clientId: `pub-${randomUUID().slice(0, 8)}`,
    clean: true,
    protocolVersion: options.protocolVersion ?? 4,
    reconnectPeriod: 0,
  };
  const client = await connectAsync(url, clientOptions);
  try {
    const qos = options.qos ?? 1;
    const pending: Promise<unknown>[] = [];
    for (const { topic, payload } of messages)
      pending.push(client.publishAsync(topic, payload, { qos }));
    await Promise.all(pending);
  } finally {
    await client.endAsync();
  }
}

/** The messages for `readings`: topic `sensors/<device>/reading`, JSON payload. */
export function readingMessages(
  readings: readonly Reading[],
): { topic: string; payload: string }[] {
  return readings.map((r) => ({
    topic: `sensors/${r.device}/reading`,
    payload: JSON.stringify(r),
  }));
}

/** `count` readings per device, round robin over `devices`, event times from `start` every `stepMs`. */
export function makeReadings(
  devices: number,
  count: number,
  start: number,
  stepMs: number,
): Reading[] {
  const readings: Reading[] = [];
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < devices; d++) {
      // Multiples of 0.25: sums are exact in binary floating point, whatever the order.
      readings.push({
        device: `dev-${d}`,
        ts: start + i * stepMs,
        temp: 15 + ((i * 7 + d * 3) % 40) * 0.25,
      });
    }
  }
  return readings;
}

/** Per-device tumbling windows of `temp`, computed offline by the benchmark's reference. */
export function expectedWindows(readings: readonly Reading[], windowMs: number): WindowResult[] {
  const reference = new WindowReference(windowMs);
  for (const r of readings) reference.add(r.device, r.ts, r.temp);
  return sortWindows([...reference.results().values()]);
}

/** Windows sorted by key then start. */
export function sortWindows(windows: WindowResult[]): WindowResult[] {
  return windows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start));
}

/** The dead-letter file's entries. */
export async function readDeadLetters(path: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
