#!/usr/bin/env node
/**
 * @module `npm run bench:workers`: the sensor-window workload (window-stats, tumbling 1 s,
 * count/sum/min/max/avg over ~100-byte JSON readings from 1000 devices, 500-event batches, a
 * tick every 20 batches) through the single-thread `RuleChain` against the partitioned chain
 * with 1 and with 2 worker threads, rounds interleaved in one run. Batches are sent one at a
 * time (the next once the previous one's outputs are back), as the pipeline does today, and
 * with 4 calls in flight (the pool queues them per partition, in order). Prints
 * events/s, CPU µs per event (all threads of the process), and the per-batch cost of crossing
 * to a worker: a 1-event batch through a pass-through rule, main thread vs a 1-worker pool, and
 * the bare transport, `postMessage` with a transferred buffer against a SharedArrayBuffer ring.
 *
 * Usage: npm run build:ts && node dist/bench/worker-pool.js [--events N] [--rounds R]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encode } from 'cbor-x';
import { pino } from 'pino';
import { PartitionedChain } from '../gateway/partition/index.js';
import type { ChainResult } from '../gateway/partition/index.js';
import { Counters } from '../gateway/pipeline/counters.js';
import { OutputCollector } from '../gateway/pipeline/output-collector.js';
import { RuleChain } from '../gateway/pipeline/rule-chain.js';
import { buildExampleRules, buildRule } from '../gateway/rules/index.js';
import { Format, FrameWriter, RuleInstance, compileRule } from '../runtime/index.js';
import type { RuleModule } from '../runtime/index.js';
import { BATCH, T0, frames } from './sensor-frames.js';
import { measureRing, measureTransfer } from './worker-transport.js';

const DEVICES = 1000;
const TICK_EVERY = 20;
const CONFIG = new Uint8Array(encode({ field: 'temp', min: -40, max: 125 }));

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const encoder = new TextEncoder();
const logger = pino({ level: 'silent' });

/** One measured run: wall time, CPU of the process, outputs. */
interface Run {
  ms: number;
  cpuUs: number;
  results: number;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function nowOf(b: number): number {
  return T0 + Math.floor(((b + 1) * BATCH) / 10);
}

/** The stream through the single-thread chain (a fresh instance, so windows never go back). */
function runSingle(mod: RuleModule, input: readonly Uint8Array[]): Run {
  const chain = new RuleChain({
    pipeline: 'bench',
    rules: [RuleInstance.create(mod, { name: 'window-stats', config: CONFIG })],
    deadLetters: { add: () => {} },
    counters: new Counters(),
    commandTopic: 'cmd/{key}',
    publishCommand: () => {},
    logger,
  });
  const collector = new OutputCollector();
  let results = 0;
  const cpu = cpuUs();
  const start = performance.now();
  for (let b = 0; b < input.length; b++) {
    chain.process(input[b] as Uint8Array, nowOf(b), collector);
    if (b % TICK_EVERY === TICK_EVERY - 1) chain.tick(nowOf(b), collector);
    results += collector.count;
    collector.finish();
  }
  return { ms: performance.now() - start, cpuUs: cpuUs() - cpu, results };
}

async function startPool(
  mod: RuleModule,
  workers: number,
  name: string,
): Promise<PartitionedChain> {
  return PartitionedChain.start({
    pipeline: 'bench',
    rules: [{ name, module: mod, config: CONFIG }],
    commandTopic: 'cmd/{key}',
    workers,
  });
}

function countOf(frame: Uint8Array | undefined): number {
  return frame === undefined ? 0 : new DataView(frame.buffer, frame.byteOffset).getUint32(4, true);
}

/**
 * The stream through a pool of `workers` (started before the clock runs), with up to `inFlight`
 * calls sent and not yet answered (1: each batch waits for the previous one's outputs).
 */
async function runPool(
  mod: RuleModule,
  workers: number,
  inFlight: number,
  input: readonly Uint8Array[],
): Promise<Run> {
  const pool = await startPool(mod, workers, 'window-stats');
  try {
    let results = 0;
    const pending: Promise<ChainResult>[] = [];
    const cpu = cpuUs();
    const start = performance.now();
    for (let b = 0; b < input.length; b++) {
      pending.push(pool.process(input[b] as Uint8Array, nowOf(b)));
      if (b % TICK_EVERY === TICK_EVERY - 1) pending.push(pool.tick(nowOf(b)));
      while (pending.length >= inFlight) results += countOf((await pending.shift())?.frame);
    }
    for (const call of pending) results += countOf((await call).frame);
    return { ms: performance.now() - start, cpuUs: cpuUs() - cpu, results };
  } finally {
    await pool.close();
  }
}

/** Per-batch round trip of a 1-event batch through a pass-through rule: main thread vs a worker. */
async function crossing(
  pass: RuleModule,
  trips: number,
): Promise<{ mainUs: number; workerUs: number }> {
  const writer = new FrameWriter();
  writer.append(
    'sensors/dev-1/reading',
    'dev-1',
    encoder.encode('{"temp":21.5}'),
    1,
    T0,
    1,
    Format.Json,
  );
  const one = writer.bytes().slice();
  const chain = new RuleChain({
    pipeline: 'bench',
    rules: [RuleInstance.create(pass, { name: 'pass' })],
    deadLetters: { add: () => {} },
    counters: new Counters(),
    commandTopic: 'cmd/{key}',
    publishCommand: () => {},
    logger,
  });
  const collector = new OutputCollector();
  for (let i = 0; i < 1000; i++) {
    chain.process(one, T0, collector);
    collector.finish();
  }
  let start = performance.now();
  for (let i = 0; i < trips; i++) {
    chain.process(one, T0, collector);
    collector.finish();
  }
  const mainUs = ((performance.now() - start) * 1000) / trips;
  const pool = await startPool(pass, 1, 'pass');
  try {
    for (let i = 0; i < 1000; i++) await pool.process(one, T0);
    start = performance.now();
    for (let i = 0; i < trips; i++) await pool.process(one, T0);
    return { mainUs, workerUs: ((performance.now() - start) * 1000) / trips };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  await buildExampleRules(join(root, 'dist', 'rules'));
  const passPath = join(root, 'dist', 'test-rules', 'trap-or-forward.wasm');
  await buildRule(join(root, 'filters', 'test-rules', 'trap-or-forward.ts'), passPath, {
    onlyIfStale: true,
  });
  const mod = await compileRule(await readFile(join(root, 'dist', 'rules', 'window-stats.wasm')));
  const pass = await compileRule(await readFile(passPath));
  const input = frames(EVENTS);
  const events = input.length * BATCH;
  console.log(
    `${events} readings (~100 B JSON), ${BATCH}-event batches, ${DEVICES} devices, window-stats tumbling 1 s; best of ${ROUNDS} interleaved rounds\n`,
  );
  const names = [
    'single thread (RuleChain)',
    'pool, 1 worker',
    'pool, 2 workers',
    'pool, 1 worker, 4 in flight',
    'pool, 2 workers, 4 in flight',
  ];
  const best: Run[] = names.map(() => ({ ms: Infinity, cpuUs: 0, results: 0 }));
  const take = (i: number, run: Run): void => {
    if (run.ms < (best[i] as Run).ms) best[i] = run;
  };
  runSingle(mod, input); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    take(0, runSingle(mod, input));
    take(1, await runPool(mod, 1, 1, input));
    take(2, await runPool(mod, 2, 1, input));
    take(3, await runPool(mod, 1, 4, input));
    take(4, await runPool(mod, 2, 4, input));
  }
  const base = best[0] as Run;
  console.log('| setup                        |  events/s | CPU µs/event | vs single | results |');
  console.log('|------------------------------|----------:|-------------:|----------:|--------:|');
  for (let i = 0; i < names.length; i++) {
    const run = best[i] as Run;
    const rate = events / (run.ms / 1000);
    console.log(
      `| ${(names[i] as string).padEnd(28)} | ${rate.toFixed(0).padStart(9)} | ${(run.cpuUs / events).toFixed(2).padStart(12)} | ${(base.ms / run.ms).toFixed(2).padStart(8)}x | ${String(run.results).padStart(7)} |`,
    );
  }

  const trips = 5000;
  const cross = await crossing(pass, trips);
  console.log(
    `\nCrossing to a worker, per batch (1-event batch, pass-through rule, ${trips} trips):` +
      ` main thread ${cross.mainUs.toFixed(1)} µs, 1-worker pool ${cross.workerUs.toFixed(1)} µs` +
      ` → ${(cross.workerUs - cross.mainUs).toFixed(1)} µs to cross`,
  );
  const batch = input[0] as Uint8Array;
  console.log(
    `\nBare transport, a ${(batch.length / 1024).toFixed(0)} KiB batch in and a 2 KiB result out (${trips} trips, interleaved):`,
  );
  const transfer = { us: Infinity, cpu: 0 };
  const ring = { us: Infinity, cpu: 0 };
  for (let r = 0; r < 3; r++) {
    const t = await measureTransfer(batch, 2048, trips);
    if (t.usPerBatch < transfer.us)
      Object.assign(transfer, { us: t.usPerBatch, cpu: t.cpuUsPerBatch });
    const s = await measureRing(batch, 2048, trips);
    if (s.usPerBatch < ring.us) Object.assign(ring, { us: s.usPerBatch, cpu: s.cpuUsPerBatch });
  }
  console.log(
    `  postMessage, buffer transferred: ${transfer.us.toFixed(1)} µs/batch, CPU ${transfer.cpu.toFixed(1)} µs/batch`,
  );
  console.log(
    `  SharedArrayBuffer + Atomics.waitAsync: ${ring.us.toFixed(1)} µs/batch, CPU ${ring.cpu.toFixed(1)} µs/batch`,
  );
  console.log(
    `  per event at ${BATCH} events/batch: ${(transfer.us / BATCH).toFixed(3)} vs ${(ring.us / BATCH).toFixed(3)} µs`,
  );
}

await main();
