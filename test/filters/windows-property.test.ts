/**
 * Property tests of every window kind against the JS reference (window-reference.ts): random
 * out-of-order streams with late events, ticks between batches, per-key and global watermarks,
 * keys from the event or from a payload field, all accumulators at once, with and without a
 * snapshot/restore into a fresh instance in the middle. Seeded (mulberry32): a failure names
 * its seed and reproduces.
 */
import { describe, expect, it } from 'vitest';
import { prng } from './reference.js';
import type { Expected } from './reference.js';
import { loadRule, readOutputs, run, startRule } from './rule-harness.js';
import type { OutRecord } from './rule-harness.js';
import { WindowRuleReference } from './window-reference.js';
import type { WindowConfig } from './window-reference.js';
import { expectSameResults, outOfOrderStream } from './window-compare.js';

const T0 = 1_700_000_000_000;
const ALL = 'count,sum,min,max,mean,first,last,stddev,duration,p50,p90,p99';
/** window-stats' own defaults (filters/rules/window-stats.ts). */
const WINDOW_STATS: WindowConfig = { field: 'temp', timeField: 'ts' };

const KINDS: Record<string, WindowConfig> = {
  tumbling: { window: 'tumbling', windowMs: 1000 },
  hopping: { window: 'hopping', windowMs: 1000, slideMs: 250 },
  sliding: { window: 'sliding', windowMs: 400 },
  session: { window: 'session', gapMs: 120 },
  count: { window: 'count', windowCount: 7, idleMs: 1500 },
};

interface Variant {
  name: string;
  config: WindowConfig;
  restore: boolean;
  sites?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'per-key watermark, no out-of-orderness', config: { watermark: 'key' }, restore: false },
  {
    name: 'per-key watermark, 150 ms out of order, restored midway',
    config: { watermark: 'key', outOfOrderMs: 150, idleMs: 800 },
    restore: true,
  },
  {
    name: 'global watermark, 200 ms out of order + 100 ms lateness, restored midway',
    config: { watermark: 'global', outOfOrderMs: 200, latenessMs: 100, idleMs: 600 },
    restore: true,
  },
  {
    name: 'keyed by a payload field, 100 ms out of order',
    config: { keyField: 'site', outOfOrderMs: 100, idleMs: 1000 },
    restore: false,
    sites: true,
  },
];

/** Runs one seeded stream through the rule and the reference; returns both outputs. */
async function runBoth(
  config: WindowConfig,
  seed: number,
  restore: boolean,
  sites: boolean,
): Promise<{ got: OutRecord[]; want: Expected[]; reference: WindowRuleReference }> {
  const mod = await loadRule('window-stats');
  const rng = prng(seed);
  const reference = new WindowRuleReference(config, WINDOW_STATS);
  let { rule } = startRule(mod, config as Record<string, unknown>);
  const clock = { now: T0 };
  const got: OutRecord[] = [];
  const want: Expected[] = [];
  let id = 1;
  let restored = !restore;
  while (id <= 2500) {
    const size = 1 + Math.floor(rng() * 60);
    const events = outOfOrderStream(rng, size, id, clock, {
      devices: 12,
      outOfOrderMs: (config.outOfOrderMs ?? 0) + 60,
      sites,
    });
    id += size;
    got.push(...run(rule, events, clock.now));
    want.push(...reference.process(events));
    if (rng() < 0.5) {
      const now = clock.now + Math.floor(rng() * 400);
      got.push(...readOutputs(rule.tick(now)));
      want.push(...reference.tick(now));
    }
    if (!restored && id > 1200) {
      const state = rule.snapshot();
      rule = startRule(mod, config as Record<string, unknown>).rule;
      rule.restore(state);
      restored = true;
    }
  }
  got.push(...readOutputs(rule.flush()));
  want.push(...reference.flush());
  return { got, want, reference };
}

describe('window kinds against the JS reference', () => {
  for (const [kind, kindConfig] of Object.entries(KINDS)) {
    for (const [v, variant] of VARIANTS.entries()) {
      const seed = 1000 + Object.keys(KINDS).indexOf(kind) * 10 + v;
      it(`${kind}: equal results on out-of-order streams with late events (${variant.name}; seed ${seed})`, async () => {
        const config: WindowConfig = { ...kindConfig, ...variant.config, aggregates: ALL };
        const { got, want, reference } = await runBoth(
          config,
          seed,
          variant.restore,
          variant.sites === true,
        );
        const results = want.filter((r) => r.output === 'default').length;
        expect(results).toBeGreaterThan(variant.sites === true ? 30 : 100);
        if (kind !== 'count') expect(reference.late).toBeGreaterThan(10);
        expect(expectSameResults(got, want)).toBeGreaterThan(3 * results - 1);
      });
    }
  }
});
