#!/usr/bin/env node
/**
 * @module `npm run bench`: the sensor-window workload through a real Mosquitto, with a bare
 * MQTT.js subscriber measured in the same run as the floor. Prints msgs/s, CPU µs per message and
 * peak RSS of each consumer process, the ratios, and whether the window results are exact.
 *
 * Usage: npm run bench -- [--messages N] [--rounds R] [--devices D] [--qos 0|1]
 *   [--rules single|chain] (window-stats alone, or threshold → window-stats)
 *   [--time event|compare] (compare: arrival-time windows beside event time with 2 s out-of-order)
 *   [--invalid-ratio F] [--spool always|interval|never|off] (the disk spool, on by default, with
 *   that fsync policy; `off`: the in-memory outbox)
 *   [--workers 0,1,2] (each variant once per worker count, side by side in each round; 0 = the
 *   rules on the gateway thread)
 */

import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startReceiver } from '../gateway/demo/receiver.js';
import { runSimulator } from '../gateway/simulator/index.js';
import { startMosquitto } from '../test/support/mosquitto.js';
import type { ChildMessage, Measurement } from './child-protocol.js';
import { compareWindows, WindowReference, type WindowResult } from './window-reference.js';

const TOPIC = 'sensors/+/reading';
const WINDOW_MS = 1000;
const TEMP_MIN = -40;
const TEMP_MAX = 125;

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    devices: { type: 'string', default: '1000' },
    qos: { type: 'string', default: '0' },
    // `chain`: threshold → window-stats; `single`: window-stats with its own validity range.
    rules: { type: 'string', default: 'single' },
    // `compare`: window-stats by arrival time beside event time with 2 s out-of-orderness.
    time: { type: 'string', default: 'event' },
    'invalid-ratio': { type: 'string', default: '0.05' },
    spool: { type: 'string' },
    // Comma-separated `pipelines[].workers.count` values, each measured in every round.
    workers: { type: 'string', default: '0' },
    // Writes a V8 CPU profile of the gateway child into this directory.
    profile: { type: 'string' },
    // Node.js flags of the gateway child; the default is what the `sluice` bin runs with.
    'gateway-flags': { type: 'string', default: '--max-semi-space-size=2' },
  },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const DEVICES = Number(values.devices);
const QOS = Number(values.qos) as 0 | 1;
const CHAIN = values.rules === 'chain';
const TIME = values.time;
const INVALID_RATIO = Number(values['invalid-ratio']);
const WORKERS = values.workers.split(',').map((text) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--workers: "${text}" is not a worker count`);
  return n;
});

interface Row {
  name: string;
  runs: Measurement[];
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** Forks a consumer, waits until it is subscribed, publishes the workload, and collects its measurement. */
async function measure(
  script: string,
  args: string[],
  publish: () => Promise<void>,
  execArgv: string[] = [],
): Promise<{ measurement: Measurement; closed: Record<string, number> }> {
  const child: ChildProcess = fork(join(here, script), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  const inbox: ChildMessage[] = [];
  const waiters: Array<() => void> = [];
  child.on('message', (message) => {
    inbox.push(message as ChildMessage);
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = async <T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const error = inbox.find((m) => m.type === 'error');
      if (error !== undefined && error.type === 'error')
        throw new Error(`${script}: ${error.message}`);
      const found = inbox.find((m) => m.type === type);
      if (found !== undefined) return found as Extract<ChildMessage, { type: T }>;
      if (child.exitCode !== null)
        throw new Error(`${script} exited with ${child.exitCode} while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${script}: no "${type}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  try {
    await next('ready', 30_000);
    child.send({ type: 'start' });
    await publish();
    const done = await next('done', 120_000);
    child.send({ type: 'close' });
    const closed = await next('closed', 60_000);
    await exited;
    return { measurement: done.measurement, closed: closed.extra ?? {} };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function summarize(row: Row): { rate: number; cpu: number; rss: number } {
  return {
    rate: median(row.runs.map((m) => (m.messages / m.wallMs) * 1000)),
    cpu: median(row.runs.map((m) => m.cpuMicros / m.messages)),
    rss: Math.max(...row.runs.map((m) => m.peakRssBytes)),
  };
}

/** One gateway configuration measured against the floor. */
interface Variant {
  name: string;
  rules: unknown[];
  /** `exact`: every window equals the offline computation; `count`: window counts add up. */
  check: 'exact' | 'count';
  /** `pipelines[].workers.count`. */
  workers: number;
  row: Row;
}

function windowStats(extra: Record<string, unknown>): unknown {
  return {
    name: 'window-stats',
    module: 'window-stats',
    config: { field: 'temp', windowMs: WINDOW_MS, ...extra },
  };
}

/** Each variant once per `--workers` count (named after it when more than one is measured). */
function variants(): Variant[] {
  const base = baseVariants();
  if (WORKERS.length === 1 && WORKERS[0] === 0) return base;
  const out: Variant[] = [];
  for (const variant of base) {
    for (const workers of WORKERS) {
      const where = workers === 0 ? 'gateway thread' : `${workers} worker${workers > 1 ? 's' : ''}`;
      const name = `${variant.name} [${where}]`;
      out.push({ ...variant, name, workers, row: { name, runs: [] } });
    }
  }
  return out;
}

function baseVariants(): Variant[] {
  const range = { min: TEMP_MIN, max: TEMP_MAX };
  const variant = (name: string, rules: unknown[], check: Variant['check'] = 'exact'): Variant => ({
    name,
    rules,
    check,
    workers: 0,
    row: { name, runs: [] },
  });
  if (TIME === 'compare') {
    return [
      variant(
        'Sluice: window-stats by arrival time',
        [windowStats({ timeField: '', ...range })],
        'count',
      ),
      variant('Sluice: window-stats by event time, 2 s out-of-orderness', [
        windowStats({ timeField: 'ts', outOfOrderMs: 2000, ...range }),
      ]),
    ];
  }
  if (CHAIN) {
    return [
      variant('Sluice: threshold → window-stats → HTTP batches', [
        { name: 'threshold', module: 'threshold', config: { field: 'temp', ...range } },
        windowStats({ timeField: 'ts' }),
      ]),
    ];
  }
  return [
    variant('Sluice: window-stats (with validity range) → HTTP batches', [
      windowStats({ timeField: 'ts', ...range }),
    ]),
  ];
}

/** Checks the window results of one run; returns a line for the report and whether they hold. */
function check(
  variant: Variant,
  reference: WindowReference,
  received: WindowResult[],
): [string, boolean] {
  const expected = reference.results();
  if (variant.check === 'count') {
    let want = 0;
    for (const window of expected.values()) want += window.count;
    let got = 0;
    for (const window of received) got += window.count;
    return [
      `${want} valid readings published, ${got} counted in ${received.length} windows`,
      want === got,
    ];
  }
  const diff = compareWindows(expected, received);
  const ok =
    diff.missing === 0 && diff.unexpected === 0 && diff.different === 0 && diff.duplicates === 0;
  return [
    `${expected.size} windows expected, ${received.length} received — ` +
      (ok
        ? 'exact'
        : `missing ${diff.missing}, unexpected ${diff.unexpected}, different ${diff.different}, duplicates ${diff.duplicates}; ${diff.examples.join('; ')}`),
    ok,
  ];
}

async function main(): Promise<void> {
  const broker = await startMosquitto({ maxInflightMessages: 1000, maxQueuedMessages: 0 });
  const received: WindowResult[] = [];
  const receiver = await startReceiver({
    port: 0,
    output: null,
    onBatch: (batch) => {
      for (const record of batch.records) received.push((record as { value: WindowResult }).value);
    },
  });
  const work = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  // Every run starts with an empty data directory, so that the rounds measure the same thing
  // (no spool or dead-letter file left by the previous round to recover and count).
  const configFile = async (variant: Variant, index: number, round: number): Promise<string> => {
    const config = {
      dataDir: join(work, `data-${index}-${round}`),
      // The gateway's in-flight window matches the broker's max_inflight_messages above.
      mqtt: {
        url: broker.url,
        clientId: 'sluice-bench',
        clean: true,
        protocolVersion: 4,
        inflightWindow: 1000,
      },
      log: { level: 'warn' },
      pipelines: [
        {
          name: 'sensor-window',
          topics: [TOPIC],
          qos: QOS,
          keyLevel: 1,
          format: 'json',
          rules: variant.rules,
          sink: { type: 'http', url: receiver.url, format: 'json', maxRecords: 500, lingerMs: 100 },
          ...(values.spool === undefined
            ? {}
            : values.spool === 'off'
              ? { spool: { enabled: false } }
              : { spool: { enabled: true, fsync: values.spool } }),
          ...(variant.workers === 0 ? {} : { workers: { count: variant.workers } }),
        },
      ],
    };
    const file = join(work, `sluice-${index}-${round}.json`);
    await writeFile(file, JSON.stringify(config));
    return file;
  };

  const bare: Row = { name: 'bare MQTT.js subscriber (receive and discard)', runs: [] };
  const measured = variants();
  let holds = true;
  const checks: string[] = [];
  const publish = (seed: number, reference?: WindowReference) => async (): Promise<void> => {
    const result = await runSimulator({
      url: broker.url,
      devices: DEVICES,
      count: MESSAGES,
      rate: 0,
      qos: QOS,
      invalidRatio: INVALID_RATIO,
      seed,
      onPublish:
        reference === undefined
          ? undefined
          : (message) => {
              const reading = message.reading;
              if (message.kind === 'valid' && reading !== undefined && reading.temp !== undefined) {
                reference.add(message.device, reading.ts, reading.temp);
              }
            },
    });
    if (result.sent !== MESSAGES) throw new Error(`publisher sent ${result.sent} of ${MESSAGES}`);
  };

  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      const seed = 1000 + round;
      const profile = (name: string): string[] =>
        values.profile === undefined
          ? []
          : [
              '--cpu-prof',
              '--cpu-prof-dir',
              values.profile,
              '--cpu-prof-name',
              `${name}-${round}.cpuprofile`,
            ];
      const floor = await measure(
        'bare-subscriber.js',
        [broker.url, TOPIC, String(QOS), String(MESSAGES)],
        publish(seed),
        profile('bare'),
      );
      bare.runs.push(floor.measurement);

      for (let i = 0; i < measured.length; i += 1) {
        const variant = measured[i] as Variant;
        received.length = 0;
        const reference = new WindowReference(WINDOW_MS);
        const flags = values['gateway-flags'].split(' ').filter((flag) => flag !== '');
        flags.push(...profile(`sluice-${i}`));
        const run = await measure(
          'gateway-child.js',
          [await configFile(variant, i, round), String(MESSAGES)],
          publish(seed, reference),
          flags,
        );
        variant.row.runs.push(run.measurement);
        const [line, ok] = check(variant, reference, received);
        holds &&= ok;
        const rss = (run.measurement.peakRssBytes / 1024 / 1024).toFixed(0);
        checks.push(`round ${round}, ${variant.name}: ${line}; peak RSS ${rss} MB`);
      }
      console.error(`round ${round} done`);
    }
  } finally {
    await receiver.close();
    await broker.close();
    await rm(work, { recursive: true, force: true });
  }

  const floor = summarize(bare);
  const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
  const line = (row: Row): string => {
    const m = summarize(row);
    return `| ${row.name} | ${m.rate.toFixed(0)} | ${m.cpu.toFixed(2)} | ${mb(m.rss)} |`;
  };
  console.log(
    `\nsensor-window: ${MESSAGES} messages × ${ROUNDS} rounds, ${DEVICES} devices, QoS ${QOS}, ` +
      `${(INVALID_RATIO * 100).toFixed(0)}% invalid, Mosquitto on loopback (median of rounds)\n`,
  );
  console.log('| consumer | msgs/s | CPU µs/msg | peak RSS MB |');
  console.log('|---|---|---|---|');
  console.log(line(bare));
  for (const variant of measured) console.log(line(variant.row));
  console.log('');
  for (const variant of measured) {
    const ours = summarize(variant.row);
    console.log(
      `${variant.name}: throughput ${(ours.rate / floor.rate).toFixed(2)}× the floor (goal ≥ 0.9), ` +
        `CPU ${(ours.cpu / floor.cpu).toFixed(2)}× (goal ≤ 1.3), peak RSS ${mb(ours.rss)} MB (goal ≤ 80)`,
    );
  }
  if (WORKERS.length > 1) {
    // Each variant on workers against the same variant on the gateway thread (or the first count).
    for (const variant of measured) {
      const base = variant.name.slice(0, variant.name.lastIndexOf(' ['));
      const reference = measured.find((v) => v.name.startsWith(`${base} [`));
      if (reference === undefined || reference === variant) continue;
      const ours = summarize(variant.row);
      const theirs = summarize(reference.row);
      console.log(
        `${variant.name} vs ${reference.name.slice(base.length + 1)}: throughput ` +
          `${(ours.rate / theirs.rate).toFixed(2)}×, CPU ${(ours.cpu / theirs.cpu).toFixed(2)}×`,
      );
    }
  }
  if (TIME === 'compare') {
    const [arrival, event] = measured.map((variant) => summarize(variant.row));
    if (arrival !== undefined && event !== undefined) {
      console.log(
        `event time vs arrival time: throughput ${(event.rate / arrival.rate).toFixed(2)}×, ` +
          `CPU ${(event.cpu / arrival.cpu).toFixed(2)}×`,
      );
    }
  }
  for (const text of checks) console.log(text);
  console.log(`window results: ${holds ? 'exact' : 'NOT EXACT'}`);
  if (!holds) process.exitCode = 1;
}

await main();
