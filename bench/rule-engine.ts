#!/usr/bin/env node
/**
 * @module The rule-engine benchmark: the cost per event of each window kind, accumulator set and
 * example rule through the real host (`runtime/` `RuleInstance`: copy-in, one call per batch,
 * outputs read back), without a broker. And, interleaved in the same run, window-stats by
 * processing time (arrival) against event time with watermarks (2 s out of orderness), on
 * in-order and on out-of-order input.
 *
 * Input: ~100-byte JSON readings `{"id","device","ts","temp","hum","bat","status"}` from 1000
 * devices (10 per device per second), in 500-event batches, time moving forward; a rule is fed
 * the whole stream once per measurement (a fresh instance each time, so windows never go back
 * in time) and `tick` runs every 20 batches (1 s of event time), as the gateway's timer would.
 * Reported: the best of `--rounds` measurements, in ns per event, and results per 1000 events.
 *
 * Usage: npx tsc -p tsconfig.build.json && node dist/bench/rule-engine.js [--events N]
 *        [--rounds R] [--only substring]
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encode } from 'cbor-x';
import { buildExampleRules } from '../gateway/rules/index.js';
import { Format, FrameReader, FrameWriter, RuleInstance, compileRule } from '../runtime/index.js';
import type { RuleModule } from '../runtime/index.js';

const T0 = 1_700_000_000_000;
const BATCH = 500;
const DEVICES = 1000;
const TICK_EVERY = 20;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string', default: '' },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);

/** One benchmarked configuration. */
interface Case {
  name: string;
  rule: string;
  config: Record<string, unknown>;
  /**
   * ordered: event time = arrival; jittered: 30% up to 2 s early; bursty: each device sends 5
   * readings 100 ms apart, then its event time jumps 1 s (sessions); doors: door states.
   */
  input: 'ordered' | 'jittered' | 'bursty' | 'doors';
}

const STATS = { field: 'temp', min: -40, max: 125 };
const CASES: Case[] = [
  {
    name: 'threshold (field read + forward, for scale)',
    rule: 'threshold',
    config: {},
    input: 'ordered',
  },
  {
    name: 'tumbling 1 s, count/sum/min/max/avg',
    rule: 'window-stats',
    config: STATS,
    input: 'ordered',
  },
  {
    name: 'tumbling 1 s, count/mean/stddev/first/last/duration',
    rule: 'window-stats',
    config: { ...STATS, aggregates: 'count,mean,stddev,first,last,duration' },
    input: 'ordered',
  },
  {
    name: 'tumbling 1 s, count/p50/p90/p99 (sketch, 1%)',
    rule: 'window-stats',
    config: { ...STATS, aggregates: 'count,p50,p90,p99' },
    input: 'ordered',
  },
  {
    name: 'tumbling 1 s, global watermark',
    rule: 'window-stats',
    config: { ...STATS, watermark: 'global', outOfOrderMs: 2000 },
    input: 'ordered',
  },
  {
    name: 'hopping 1 s every 250 ms (4 windows/event)',
    rule: 'window-stats',
    config: { ...STATS, window: 'hopping', windowMs: 1000, slideMs: 250 },
    input: 'ordered',
  },
  {
    name: 'hopping 10 s every 1 s (10 windows/event)',
    rule: 'window-stats',
    config: { ...STATS, window: 'hopping', windowMs: 10000, slideMs: 1000 },
    input: 'ordered',
  },
  {
    name: 'sliding 1 s (a result per event over ~10 events)',
    rule: 'window-stats',
    config: { ...STATS, window: 'sliding', windowMs: 1000 },
    input: 'ordered',
  },
  {
    name: 'session, gap 150 ms (5 events per session)',
    rule: 'window-stats',
    config: { ...STATS, window: 'session', gapMs: 150 },
    input: 'bursty',
  },
  {
    name: 'session, gap 150 ms, out of order by up to 2 s (merging)',
    rule: 'window-stats',
    config: { ...STATS, window: 'session', gapMs: 150, outOfOrderMs: 2000 },
    input: 'jittered',
  },
  {
    name: 'count, 10 events',
    rule: 'window-stats',
    config: { ...STATS, window: 'count', windowCount: 10 },
    input: 'ordered',
  },
  {
    name: 'quantiles rule (1 s windows, p50/p90/p99/max)',
    rule: 'quantiles',
    config: { field: 'temp', windowMs: 1000 },
    input: 'ordered',
  },
  {
    name: 'session-usage rule (gap 150 ms, count/duration)',
    rule: 'session-usage',
    config: { gapMs: 150 },
    input: 'bursty',
  },
  {
    name: 'door-alarm rule (pattern, within 150 ms)',
    rule: 'door-alarm',
    config: { withinMs: 150 },
    input: 'doors',
  },
];

/** Processing time against event time, measured interleaved. */
const TIME_CASES: Case[] = [
  {
    name: 'window-stats, processing time (arrival), in order',
    rule: 'window-stats',
    config: { ...STATS, timeField: '' },
    input: 'ordered',
  },
  {
    name: 'window-stats, event time, per-device watermark, 0 s out of order, in order',
    rule: 'window-stats',
    config: STATS,
    input: 'ordered',
  },
  {
    name: 'window-stats, event time, 2 s out-of-orderness, in order',
    rule: 'window-stats',
    config: { ...STATS, outOfOrderMs: 2000 },
    input: 'ordered',
  },
  {
    name: 'window-stats, processing time (arrival), input up to 2 s out of order',
    rule: 'window-stats',
    config: { ...STATS, timeField: '' },
    input: 'jittered',
  },
  {
    name: 'window-stats, event time, 2 s out-of-orderness, input up to 2 s out of order',
    rule: 'window-stats',
    config: { ...STATS, outOfOrderMs: 2000 },
    input: 'jittered',
  },
];

const encoder = new TextEncoder();

/** Deterministic pseudo-random numbers (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The input stream as batch frames. */
function frames(input: Case['input']): Uint8Array[] {
  const rng = prng(1);
  const out: Uint8Array[] = [];
  let id = 1;
  for (let b = 0; b < EVENTS / BATCH; b++) {
    const writer = new FrameWriter({ maxBytes: 1 << 20, maxEvents: BATCH });
    for (let i = 0; i < BATCH; i++) {
      const device = `dev-${(id * 7919) % DEVICES}`;
      const arrival = T0 + Math.floor(id / 10);
      let ts = arrival;
      if (input === 'jittered' && rng() < 0.3) ts -= Math.floor(rng() * 2000);
      if (input === 'bursty') ts += Math.floor((arrival - T0) / 500) * 1000;
      const temp = (15 + ((id * 37) % 200) / 10).toFixed(1);
      const text =
        input === 'doors'
          ? `{"id":${id},"device":"${device}","ts":${ts},"door":"${rng() < 0.5 ? 'open' : 'closed'}","bat":3.71}`
          : `{"id":${id},"device":"${device}","ts":${ts},"temp":${temp},"hum":40.1,"bat":3.71,"status":"ok"}`;
      writer.append(
        `sensors/${device}/reading`,
        device,
        encoder.encode(text),
        id,
        arrival,
        1,
        Format.Json,
      );
      id++;
    }
    out.push(writer.bytes().slice());
  }
  return out;
}

/** Feeds the whole stream to a fresh instance; returns ns per event and results. */
function once(
  mod: RuleModule,
  config: Record<string, unknown>,
  input: readonly Uint8Array[],
): { ns: number; results: number } {
  const rule = RuleInstance.create(mod, { config: new Uint8Array(encode(config)) });
  const reader = new FrameReader();
  let results = 0;
  const start = process.hrtime.bigint();
  for (let b = 0; b < input.length; b++) {
    const now = T0 + Math.floor(((b + 1) * BATCH) / 10);
    results += reader.reset(rule.process(input[b]!, now)).count;
    if (b % TICK_EVERY === TICK_EVERY - 1) results += reader.reset(rule.tick(now)).count;
  }
  const ns = Number(process.hrtime.bigint() - start) / (input.length * BATCH);
  return { ns, results };
}

function line(name: string, ns: number, results: number): string {
  const perThousand = (results * 1000) / EVENTS;
  return `| ${name.padEnd(78)} | ${ns.toFixed(0).padStart(5)} | ${perThousand.toFixed(0).padStart(6)} |`;
}

async function main(): Promise<void> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const rulesDir = join(root, 'dist', 'rules');
  await buildExampleRules(rulesDir);
  const mods = new Map<string, RuleModule>();
  const load = async (name: string): Promise<RuleModule> => {
    let mod = mods.get(name);
    if (mod === undefined) {
      mod = await compileRule(new Uint8Array(await readFile(join(rulesDir, `${name}.wasm`))));
      mods.set(name, mod);
    }
    return mod;
  };
  const inputs = new Map<Case['input'], Uint8Array[]>();
  const inputOf = (kind: Case['input']): Uint8Array[] => {
    let f = inputs.get(kind);
    if (f === undefined) {
      f = frames(kind);
      inputs.set(kind, f);
    }
    return f;
  };
  const header = `| ${'case'.padEnd(78)} | ns/ev | res/1k |\n|${'-'.repeat(80)}|------:|-------:|`;
  console.log(
    `${EVENTS} readings, ${BATCH}-event batches, ${DEVICES} devices, best of ${ROUNDS}\n`,
  );
  console.log(header);
  for (const c of CASES) {
    if (!c.name.includes(values.only)) continue;
    const mod = await load(c.rule);
    const input = inputOf(c.input);
    once(mod, c.config, input); // warm-up
    let best = Infinity;
    let results = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const m = once(mod, c.config, input);
      best = Math.min(best, m.ns);
      results = m.results;
    }
    console.log(line(c.name, best, results));
  }
  console.log('\nProcessing time against event time (interleaved rounds):\n');
  console.log(header);
  const timeCases = TIME_CASES.filter((c) => c.name.includes(values.only));
  const best = timeCases.map(() => Infinity);
  const results = timeCases.map(() => 0);
  for (const c of timeCases) once(await load(c.rule), c.config, inputOf(c.input));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, c] of timeCases.entries()) {
      const m = once(await load(c.rule), c.config, inputOf(c.input));
      best[i] = Math.min(best[i]!, m.ns);
      results[i] = m.results;
    }
  }
  for (const [i, c] of timeCases.entries()) console.log(line(c.name, best[i]!, results[i]!));
}

await main();
