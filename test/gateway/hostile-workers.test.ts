/**
 * A gateway with two pipelines through Mosquitto: a healthy one (threshold → window-stats on the
 * gateway thread) and one whose rules run on two workers and misbehave — an infinite loop,
 * unbounded memory growth, a trap on every 100th event, a stack overflow, an enormous output.
 * For each: the gateway stays up, the healthy pipeline gives exactly its window results at
 * ≥ 0.9× the throughput of a run without the hostile pipeline, and the dead-letter file holds
 * exactly the offending events with their reasons.
 *
 * Throughput is compared as the completion time of one fixed healthy load (60 000 readings, about
 * 1.3 s here; fewer than the 65 535 QoS 1 packet ids the publisher has), measured with and
 * without the hostile pipeline side by side in the same test, after a warm-up run. The
 * hostile cases cost the healthy pipeline a one-time stall at most (the infinite loop spins a
 * worker for ruleTimeoutMs, then the worker is replaced: 5–8% of this load on 2 cores). One run
 * still varies by ±10% on a shared 2-core machine, so when the ratio misses, the pair of runs is
 * repeated (up to 5 pairs) and the best time of each side is compared: scheduling noise cannot
 * fail the test, a pipeline that really slows the other down on every run still does.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../gateway/config/index.js';
import type { Config } from '../../gateway/config/index.js';
import { Gateway } from '../../gateway/gateway.js';
import {
  THRESHOLD_RULE,
  expectedWindows,
  makeReadings,
  publishAll,
  readDeadLetters,
  readingMessages,
  sortWindows,
  tempDir,
} from './helpers/gateway-config.js';
import type { WindowResult } from './helpers/gateway-config.js';
import { useMosquitto } from './helpers/gateway-fixture.js';
import { startReceiver } from './helpers/receiver.js';
import type { Receiver } from './helpers/receiver.js';
import { waitFor } from './helpers/wait.js';
import { useWorkerEntry } from './helpers/worker-entry.js';

const HOSTILE_WASM = fileURLToPath(new URL('../../dist/test-rules/hostile.wasm', import.meta.url));
const WINDOW_MS = 100;
const DEVICES = 20;
const PER_DEVICE = 3000;
const RULE_TIMEOUT_MS = 200;
/** The healthy throughput with the hostile pipeline, relative to without it. */
const MIN_RATIO = 0.9;
/** Pairs of runs at most (a pair more only while the ratio misses). */
const ATTEMPTS = 5;

/** One event for the hostile pipeline: topic `hostile/<key>/reading`, payload `{"seq":n}`. */
interface HostileEvent {
  key: string;
  seq: number;
}

function hostileMessages(events: readonly HostileEvent[]): { topic: string; payload: string }[] {
  return events.map((e) => ({
    topic: `hostile/${e.key}/reading`,
    payload: JSON.stringify({ seq: e.seq }),
  }));
}

/** `count` events of `key`, seq 0…count−1. */
function run(key: string, count: number): HostileEvent[] {
  return Array.from({ length: count }, (_, seq) => ({ key, seq }));
}

/** Well-behaved events of the hostile pipeline (keys on both workers). */
const WELL_BEHAVED = [...run('ok-a', 20), ...run('ok-b', 20), ...run('ok-c', 20)];

interface HostileCase {
  what: string;
  /** Published first, alone: the offending events. */
  offending: HostileEvent[];
  /** The dead letters expected: key, seq and reason. */
  dead: { key: string; seq: number; reason: RegExp }[];
  /** The dead letters are a subset of `offending` (which ones depends on memory, not order). */
  someOf?: boolean;
}

const CASES: HostileCase[] = [
  {
    what: 'an infinite loop',
    offending: run('loop', 1),
    dead: [
      {
        key: 'loop',
        seq: 0,
        reason: new RegExp(
          `^RULE_TIMEOUT: partition \\d of pipeline "hostile" did not finish a process call within ruleTimeoutMs \\(${RULE_TIMEOUT_MS} ms\\)`,
        ),
      },
    ],
  },
  {
    what: 'unbounded memory growth',
    offending: run('grow', 24),
    dead: run('grow', 24).map((e) => ({ ...e, reason: /^RULE_TRAP: / })),
    someOf: true,
  },
  {
    what: 'a trap on every 100th event',
    offending: run('flaky', 300),
    dead: [99, 199, 299].map((seq) => ({
      key: 'flaky',
      seq,
      reason: /^RULE_TRAP: rule "hostile" trapped in process: unreachable/,
    })),
  },
  {
    what: 'a stack overflow',
    offending: run('deep', 1),
    dead: [
      {
        key: 'deep',
        seq: 0,
        reason: /^RULE_TRAP: rule "hostile" trapped in process: Maximum call stack size exceeded/,
      },
    ],
  },
  {
    what: 'an enormous output',
    offending: run('flood', 1),
    dead: [{ key: 'flood', seq: 0, reason: /^RULE_TRAP: / }],
  },
];

/** The gateway's configuration: the healthy pipeline, and the hostile one when `hostile`. */
function gatewayConfig(
  mqttUrl: string,
  dir: string,
  healthy: Receiver,
  hostile: Receiver | undefined,
): Config {
  const sink = (url: string): Record<string, unknown> => ({
    type: 'http',
    url,
    lingerMs: 20,
    retry: { initialDelayMs: 20, maxDelayMs: 200 },
  });
  const pipelines: Record<string, unknown>[] = [
    {
      name: 'healthy',
      topics: ['sensors/+/reading'],
      qos: 1,
      keyLevel: 1,
      rules: [
        THRESHOLD_RULE,
        { module: 'window-stats', config: { field: 'temp', timeField: 'ts', windowMs: WINDOW_MS } },
      ],
      sink: sink(healthy.url),
    },
  ];
  if (hostile !== undefined) {
    pipelines.push({
      name: 'hostile',
      topics: ['hostile/+/reading'],
      qos: 1,
      keyLevel: 1,
      rules: [{ name: 'hostile', module: HOSTILE_WASM }],
      workers: { count: 2, ruleTimeoutMs: RULE_TIMEOUT_MS },
      sink: sink(hostile.url),
    });
  }
  return resolveConfig({
    dataDir: dir,
    mqtt: {
      url: mqttUrl,
      clientId: `sluice-hostile-${randomUUID().slice(0, 8)}`,
      clean: false,
      reconnectPeriodMs: 200,
    },
    pipelines,
    deadLetter: { path: join(dir, 'dead', 'dead-letter.jsonl') },
    log: { level: 'silent' },
  });
}

/** What one run measured. */
interface RunResult {
  /** From the first healthy publish to every closable window upstream. */
  healthyMs: number;
  dead: Record<string, unknown>[];
  hostileForwarded: number;
}

describe('Gateway with a hostile pipeline on workers beside a healthy one', () => {
  // Mosquitto 2.0.11 (this machine's) sends queued QoS 1 messages out of order once its
  // max_inflight_messages window is full and acks come back out of order (as they do here: the
  // healthy pipeline commits while the hostile one holds its batch's acks in the pool); seen as
  // readings reaching the gateway's socket late, without DUP. An unlimited window avoids it, as
  // for the QoS 2 suite of window-results.test.ts.
  const mosquitto = useMosquitto({ maxInflightMessages: 0, maxQueuedMessages: 100_000 });
  const workerEntry = useWorkerEntry();

  /** Starts a gateway, runs the healthy load (and the hostile one), closes it, checks the healthy results. */
  async function measure(hostileCase: HostileCase | undefined): Promise<RunResult> {
    const dir = await tempDir();
    const healthy = await startReceiver();
    const hostile = hostileCase === undefined ? undefined : await startReceiver();
    const config = gatewayConfig(mosquitto().url, dir, healthy, hostile);
    const gateway = await Gateway.start(config, { workerEntry: workerEntry() });
    try {
      // Event times an hour ahead, one reading per device and window: each reading closes its
      // device's previous window; the last ones close on close() (flush).
      const readings = makeReadings(DEVICES, PER_DEVICE, Date.now() + 3_600_000, WINDOW_MS);
      const closable = DEVICES * (PER_DEVICE - 1);
      const started = performance.now();
      const healthyDone = publishAll(mosquitto().url, readingMessages(readings));
      let hostileDone: Promise<void> = Promise.resolve();
      if (hostileCase !== undefined) {
        hostileDone = (async () => {
          // The offending events alone first, so that the dead letters are exactly theirs.
          await publishAll(mosquitto().url, hostileMessages(hostileCase.offending));
          await waitFor(() => gateway.stats().deadLetters > 0, {
            what: `the dead letters of ${hostileCase.what}`,
          });
          await publishAll(mosquitto().url, hostileMessages(WELL_BEHAVED));
        })();
      }
      await healthyDone;
      await waitFor(() => healthy.recordCount() >= closable, {
        timeoutMs: 60_000,
        what: 'every closable window upstream',
        intervalMs: 5,
      });
      const healthyMs = performance.now() - started;
      await hostileDone;
      if (hostile !== undefined && hostileCase !== undefined) {
        const expected = WELL_BEHAVED.length + hostileCase.offending.length;
        await waitFor(() => hostile.recordCount() + gateway.stats().deadLetters >= expected, {
          what: 'every hostile event forwarded or dead-lettered',
        });
      }
      await gateway.close();
      const windows = sortWindows(healthy.records().map((r) => r.value as WindowResult));
      expect(windows).toEqual(expectedWindows(readings, WINDOW_MS));
      const forwarded = hostile?.records().filter((r) => r.output === 'default').length ?? 0;
      return {
        healthyMs,
        dead: await readDeadLetters(config.deadLetter.path),
        hostileForwarded: forwarded,
      };
    } finally {
      await gateway.close();
      await healthy.close();
      await hostile?.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  beforeAll(async () => {
    // A warm-up run: the first gateway of a process pays for compiling and JIT warm-up.
    await measure(undefined);
  }, 60_000);

  it.each(CASES)(
    'stays up and isolates $what',
    async (hostileCase) => {
      const baseline: number[] = [];
      const withHostile: number[] = [];
      let last: RunResult | undefined;
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        baseline.push((await measure(undefined)).healthyMs);
        last = await measure(hostileCase);
        withHostile.push(last.healthyMs);
        if (Math.min(...baseline) / Math.min(...withHostile) >= MIN_RATIO) break;
      }
      const ratio = Math.min(...baseline) / Math.min(...withHostile);
      console.log(
        `${hostileCase.what}: healthy load ${baseline.map((ms) => ms.toFixed(0)).join('/')} ms alone, ${withHostile.map((ms) => ms.toFixed(0)).join('/')} ms beside it: ratio ${ratio.toFixed(2)}`,
      );
      expect(ratio).toBeGreaterThanOrEqual(MIN_RATIO);

      const result = last as RunResult;
      const dead = result.dead.map((d) => ({
        pipeline: d['pipeline'],
        key: d['key'],
        seq: (JSON.parse(String(d['payload'])) as { seq: number }).seq,
        reason: String(d['reason']),
      }));
      for (const d of dead) expect(d.pipeline).toBe('hostile');
      if (hostileCase.someOf === true) {
        expect(dead.length).toBeGreaterThan(0);
        for (const d of dead) {
          const match = hostileCase.dead.find((e) => e.key === d.key && e.seq === d.seq);
          expect(match, `unexpected dead letter ${JSON.stringify(d)}`).toBeDefined();
          expect(d.reason).toMatch((match as HostileCase['dead'][number]).reason);
        }
      } else {
        expect(dead.map((d) => `${d.key}/${d.seq}`).sort()).toEqual(
          hostileCase.dead.map((d) => `${d.key}/${d.seq}`).sort(),
        );
        for (const d of dead) {
          const match = hostileCase.dead.find((e) => e.key === d.key && e.seq === d.seq);
          expect(d.reason).toMatch((match as HostileCase['dead'][number]).reason);
        }
      }
      // Every other hostile event went through: the pipeline keeps working.
      expect(result.hostileForwarded).toBe(
        WELL_BEHAVED.length + hostileCase.offending.length - dead.length,
      );
    },
    120_000,
  );
});
