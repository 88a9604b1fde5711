#!/usr/bin/env node
/**
 * @module The cost of fuel metering (gateway/rules/fuel.ts) on window-stats (tumbling 1 s,
 * count/sum/min/max/avg over ~100-byte JSON readings, 500-event batches, a tick every 20
 * batches): the same module plain and metered with a budget per call, rounds interleaved, best
 * of each, in ns per event. Also how long a metered infinite loop runs before it traps.
 *
 * Usage: npm run build:ts && node dist/bench/rule-fuel.js [--events N] [--rounds R] [--fuel F]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encode } from 'cbor-x';
import { buildExampleRules, buildRule, meterFuel } from '../gateway/rules/index.js';
import {
  Format,
  FrameReader,
  FrameWriter,
  RuleInstance,
  RuleTrapError,
  compileRule,
} from '../runtime/index.js';
import type { RuleModule } from '../runtime/index.js';
import { BATCH, T0, frames } from './sensor-frames.js';

const TICK_EVERY = 20;
const CONFIG = new Uint8Array(encode({ field: 'temp', min: -40, max: 125 }));

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '7' },
    fuel: { type: 'string', default: '10000000' },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const FUEL = Number(values.fuel);

/** The stream through a fresh instance; ns per event. */
function once(mod: RuleModule, fuel: number | undefined, input: readonly Uint8Array[]): number {
  const rule = RuleInstance.create(mod, { config: CONFIG, fuel });
  const reader = new FrameReader();
  const start = process.hrtime.bigint();
  for (let b = 0; b < input.length; b++) {
    const now = T0 + Math.floor(((b + 1) * BATCH) / 10);
    reader.reset(rule.process(input[b] as Uint8Array, now));
    if (b % TICK_EVERY === TICK_EVERY - 1) reader.reset(rule.tick(now));
  }
  return Number(process.hrtime.bigint() - start) / (input.length * BATCH);
}

async function main(): Promise<void> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  await buildExampleRules(join(root, 'dist', 'rules'));
  const bytes = await readFile(join(root, 'dist', 'rules', 'window-stats.wasm'));
  let started = performance.now();
  const metered = await meterFuel(bytes);
  const meterMs = performance.now() - started;
  const plain = await compileRule(bytes);
  const fueled = await compileRule(metered);
  const input = frames(EVENTS);
  once(plain, undefined, input);
  once(fueled, FUEL, input);
  let bestPlain = Infinity;
  let bestFuel = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    bestPlain = Math.min(bestPlain, once(plain, undefined, input));
    bestFuel = Math.min(bestFuel, once(fueled, FUEL, input));
  }
  console.log(
    `window-stats, ${input.length * BATCH} readings, best of ${ROUNDS} interleaved rounds`,
  );
  console.log(
    `  metering: ${bytes.length} → ${metered.length} bytes, ${meterMs.toFixed(0)} ms (binaryen load included)`,
  );
  console.log(`  plain:   ${bestPlain.toFixed(0)} ns/event`);
  console.log(
    `  metered: ${bestFuel.toFixed(0)} ns/event (fuel ${FUEL} per call): +${((bestFuel / bestPlain - 1) * 100).toFixed(1)}%`,
  );

  // An infinite loop under the same budget.
  const hostilePath = join(root, 'dist', 'test-rules', 'hostile.wasm');
  await buildRule(join(root, 'filters', 'test-rules', 'hostile.ts'), hostilePath, {
    onlyIfStale: true,
  });
  const hostile = await compileRule(await meterFuel(await readFile(hostilePath)));
  const rule = RuleInstance.create(hostile, { fuel: FUEL });
  const writer = new FrameWriter();
  writer.append('sensors/loop', 'loop', new Uint8Array(0), 1, T0, 1, Format.Json);
  started = performance.now();
  try {
    rule.process(writer.bytes(), T0);
  } catch (error) {
    if (!(error instanceof RuleTrapError)) throw error;
    console.log(
      `  an infinite loop trapped after ${(performance.now() - started).toFixed(1)} ms: ${error.message}`,
    );
  }
}

await main();
