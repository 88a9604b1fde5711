/**
 * Poison events next to normal flow: a rule that traps on every 100th event (its device key is
 * "trap") runs in one pipeline, alone, and in another as the second rule of a chain (after
 * threshold), with a healthy pipeline beside them. Each trapping batch is retried event by event
 * at the failing rule's position, so the dead-letter file holds exactly the offending events (the
 * original events) with their reasons, and every other event of every pipeline arrives upstream. `/metrics` (real HTTP, bearer token)
 * then shows the per-rule series and the gateway counters with the values this traffic implies.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../gateway/config/index.js';
import { Gateway } from '../../gateway/gateway.js';
import { publishAll, readDeadLetters, tempDir } from './helpers/gateway-config.js';
import { startReceiver } from './helpers/receiver.js';
import type { Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';
import { metricSample } from '../support/prometheus.js';

// Built from filters/test-rules/trap-or-forward.ts by the global setup.
const RULE_PATH = fileURLToPath(
  new URL('../../dist/test-rules/trap-or-forward.wasm', import.meta.url),
);
const EVENTS = 1000;
/** Events from the device "trap" per poisoned pipeline. */
const POISON = EVENTS / 100;
const TOKEN = 'metrics-test-token-0123456789abcdef';

interface SeqEvent {
  device: string;
  seq: number;
  temp: number;
}

/** Event `seq` of a pipeline: every 100th comes from the device "trap" (poisoned pipelines only). */
function event(seq: number, poisoned: boolean): SeqEvent {
  return { device: poisoned && seq % 100 === 99 ? 'trap' : `dev-${seq % 4}`, seq, temp: 20 };
}

/** The pipelines: topic prefix, whether every 100th event is poison, the rules. */
const PIPELINES = [
  { name: 'poisoned', poisoned: true, rules: [{ name: 'trapper', module: RULE_PATH, config: {} }] },
  {
    name: 'chained',
    poisoned: true,
    rules: [
      { name: 'range', module: 'threshold', config: { field: 'temp', min: -40, max: 125 } },
      { name: 'trapper', module: RULE_PATH, config: {} },
    ],
  },
  { name: 'healthy', poisoned: false, rules: [{ name: 'trapper', module: RULE_PATH, config: {} }] },
] as const;

function pipeline(
  name: string,
  rules: readonly Record<string, unknown>[],
  sinkUrl: string,
): Record<string, unknown> {
  return {
    name,
    topics: [`${name}/+/reading`],
    qos: 1,
    keyLevel: 1,
    rules,
    batch: { maxEvents: 50, lingerMs: 5 },
    sink: {
      type: 'http',
      url: sinkUrl,
      lingerMs: 20,
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
    },
  };
}

describe('Gateway with a rule trapping on every 100th event beside a healthy pipeline', () => {
  let dir: string;
  const receivers = new Map<string, Receiver>();
  let gateway: Gateway;

  beforeAll(async () => {
    dir = await tempDir();
    for (const p of PIPELINES) receivers.set(p.name, await startReceiver());
    const config = resolveConfig({
      dataDir: dir,
      mqtt: {
        url: '',
        clientId: `sluice-test-${randomUUID().slice(0, 8)}`,
        clean: false,
        protocolVersion: 4,
        reconnectPeriodMs: 200,
        embedded: { host: '127.0.0.1', port: 0 },
      },
      pipelines: PIPELINES.map((p) =>
        pipeline(p.name, p.rules, (receivers.get(p.name) as Receiver).url),
      ),
      api: { enabled: true, host: '127.0.0.1', port: 0, token: TOKEN },
      deadLetter: { path: join(dir, 'dead', 'dead-letter.jsonl') },
      log: { level: 'silent' },
    });
    gateway = await Gateway.start(config);
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
    for (const receiver of receivers.values()) await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('dead-letters exactly the trapping events and delivers every other event', async () => {
    const messages: { topic: string; payload: string }[] = [];
    for (let seq = 0; seq < EVENTS; seq++) {
      for (const p of PIPELINES) {
        const e = event(seq, p.poisoned);
        messages.push({ topic: `${p.name}/${e.device}/reading`, payload: JSON.stringify(e) });
      }
    }
    await publishAll(gateway.mqttUrl, messages, { qos: 1 });
    await waitFor(() => gateway.stats().processed === PIPELINES.length * EVENTS, {
      what: 'every event processed',
      timeoutMs: 60_000,
    });

    const poison = Array.from({ length: EVENTS }, (_, seq) => event(seq, true)).filter(
      (e) => e.device === 'trap',
    );
    expect(poison).toHaveLength(POISON);
    let deadLetters: Record<string, unknown>[] = [];
    await waitFor(
      async () => {
        deadLetters = await readDeadLetters(join(dir, 'dead', 'dead-letter.jsonl'));
        return deadLetters.length >= 2 * POISON;
      },
      { what: 'the dead letters written' },
    );
    expect(deadLetters).toHaveLength(2 * POISON);
    expect(gateway.stats().deadLetters).toBe(2 * POISON);
    for (const name of ['poisoned', 'chained']) {
      const entries = deadLetters.filter((entry) => entry['pipeline'] === name);
      const deadEvents = entries.map((entry) => {
        expect(entry).toMatchObject({
          rule: 'trapper',
          key: 'trap',
          topic: `${name}/trap/reading`,
        });
        expect(String(entry['reason'])).toMatch(/^RULE_TRAP: rule "trapper" trapped in process/);
        return JSON.parse(String(entry['payload'])) as SeqEvent;
      });
      expect(deadEvents.sort((a, b) => a.seq - b.seq)).toEqual(poison);
    }

    // Everything else arrives upstream, exactly once, in every pipeline.
    const good = EVENTS - POISON;
    await waitFor(
      () =>
        PIPELINES.every(
          (p) => (receivers.get(p.name) as Receiver).recordCount() >= (p.poisoned ? good : EVENTS),
        ),
      { what: 'the good events upstream', timeoutMs: 60_000 },
    );
    for (const p of PIPELINES) {
      const seqs = (receivers.get(p.name) as Receiver)
        .records()
        .map((record) => (record.value as SeqEvent).seq)
        .sort((a, b) => a - b);
      const all = Array.from({ length: EVENTS }, (_, seq) => seq);
      expect(seqs).toEqual(p.poisoned ? all.filter((seq) => seq % 100 !== 99) : all);
    }
  }, 120_000);

  it('serves per-rule series and gateway counters at /metrics, with the bearer token', async () => {
    const url = `${gateway.apiUrl as string}/metrics`;
    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    await refused.text();

    const total = PIPELINES.length * EVENTS;
    await waitFor(() => gateway.stats().sent === total - 2 * POISON, {
      what: 'every output sent upstream',
    });
    const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();

    expect(metricSample(text, 'sluice_received_total')).toBe(total);
    expect(metricSample(text, 'sluice_processed_total')).toBe(total);
    expect(metricSample(text, 'sluice_dead_letters_total')).toBe(2 * POISON);
    // Each trapping batch fails once, then its trapping event again alone.
    expect(metricSample(text, 'sluice_rule_failures_total')).toBe(4 * POISON);
    expect(metricSample(text, 'sluice_qos0_dropped_total')).toBe(0);
    expect(metricSample(text, 'sluice_sent_total')).toBe(total - 2 * POISON);
    for (const p of PIPELINES)
      expect(metricSample(text, 'sluice_outbox_depth', { pipeline: p.name })).toBe(0);

    // Healthy rule: every event in and out once, no error, no restart, plausible latencies.
    const healthy = { pipeline: 'healthy', rule: 'trapper' };
    const healthyBatches =
      metricSample(text, 'sluice_rule_batch_duration_seconds_count', healthy) ?? 0;
    expect(healthyBatches).toBeGreaterThanOrEqual(EVENTS / 50);
    expect(healthyBatches).toBeLessThanOrEqual(EVENTS);
    expect(metricSample(text, 'sluice_rule_events_in_total', healthy)).toBe(EVENTS);
    expect(metricSample(text, 'sluice_rule_events_out_total', healthy)).toBe(EVENTS);
    expect(metricSample(text, 'sluice_rule_calls_total', healthy)).toBeGreaterThanOrEqual(
      healthyBatches,
    );
    expect(metricSample(text, 'sluice_rule_restarts_total', healthy)).toBe(0);
    expect(text).not.toMatch(/sluice_rule_errors_total\{pipeline="healthy"/);
    expect(metricSample(text, 'sluice_rule_memory_pages', healthy)).toBeGreaterThan(0);
    const p50 = metricSample(text, 'sluice_rule_batch_duration_seconds', {
      ...healthy,
      quantile: '0.5',
    });
    const p99 = metricSample(text, 'sluice_rule_batch_duration_seconds', {
      ...healthy,
      quantile: '0.99',
    });
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p50 as number);
    expect(p99).toBeLessThan(10);
    expect(metricSample(text, 'sluice_rule_cpu_seconds_total', healthy)).toBeGreaterThan(0);

    // The trapping rules: the events of each trapping batch went in twice (batch, then one by one).
    for (const name of ['poisoned', 'chained']) {
      const trapper = { pipeline: name, rule: 'trapper' };
      expect(
        metricSample(text, 'sluice_rule_errors_total', { ...trapper, code: 'RULE_TRAP' }),
      ).toBe(2 * POISON);
      expect(metricSample(text, 'sluice_rule_events_out_total', trapper)).toBe(EVENTS - POISON);
      const eventsIn = metricSample(text, 'sluice_rule_events_in_total', trapper) ?? 0;
      expect(eventsIn).toBeGreaterThan(EVENTS);
      expect(eventsIn).toBeLessThanOrEqual(EVENTS + POISON * 50);
      const restarts = metricSample(text, 'sluice_rule_restarts_total', trapper) ?? 0;
      // Re-created lazily on its next call (the periodic tick is one).
      expect(restarts).toBeGreaterThanOrEqual(2 * POISON - 1);
      expect(restarts).toBeLessThanOrEqual(2 * POISON);
    }
    // The rule before the trapping one in the chain ran each batch once: no retry reached it.
    const range = { pipeline: 'chained', rule: 'range' };
    expect(metricSample(text, 'sluice_rule_events_in_total', range)).toBe(EVENTS);
    expect(metricSample(text, 'sluice_rule_events_out_total', range)).toBe(EVENTS);
    expect(text).not.toMatch(/sluice_rule_errors_total\{pipeline="chained",rule="range"/);
  });
});
