/**
 * The quantiles example rule and the SDK's quantile sketch: every estimate within the stated
 * relative accuracy of the exact quantile (the item of rank ⌊q·(n − 1)⌋), over skewed, wide,
 * negative and zero values, at the default 1% and at a configured 5%; p0 and p100 exact;
 * sketches kept across snapshot/restore.
 */
import { describe, expect, it } from 'vitest';
import { prng } from './reference.js';
import type { Expected } from './reference.js';
import { loadRule, readOutputs, run, startRule } from './rule-harness.js';
import type { InEvent, OutRecord } from './rule-harness.js';
import { WindowRuleReference, exactQuantile } from './window-reference.js';
import type { WindowConfig } from './window-reference.js';
import { expectSameResults } from './window-compare.js';

const T0 = 1_700_000_040_000; // a multiple of 60 s
const QUANTILES: WindowConfig = {
  field: 'latencyMs',
  windowMs: 60000,
  timeField: 'ts',
  aggregates: 'count,p50,p90,p99,max',
};

/** Log-normal latencies (median ~40 ms, long tail) from `devices` devices, 5 readings per second. */
function latencies(rng: () => number, seconds: number, devices: number): InEvent[] {
  const events: InEvent[] = [];
  let id = 1;
  for (let ms = 0; ms < seconds * 1000; ms += 200) {
    for (let d = 0; d < devices; d++) {
      const normal = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
      const latencyMs = Math.round(Math.exp(3.7 + 0.9 * normal) * 1000) / 1000;
      events.push({
        key: `dev-${d}`,
        id: id++,
        time: T0 + ms,
        payload: { ts: T0 + ms, latencyMs },
      });
    }
  }
  return events;
}

describe('quantiles', () => {
  it('reports p50, p90 and p99 latency per device per minute within 1% of the exact values', async () => {
    const { rule } = startRule(await loadRule('quantiles'));
    const reference = new WindowRuleReference({}, QUANTILES);
    const events = latencies(prng(21), 200, 8);
    const got: OutRecord[] = [];
    const want: Expected[] = [];
    for (let i = 0; i < events.length; i += 400) {
      const batch = events.slice(i, i + 400);
      got.push(...run(rule, batch));
      want.push(...reference.process(batch));
    }
    got.push(...readOutputs(rule.flush()));
    want.push(...reference.flush());
    expect(want.length).toBe(8 * 4);
    expect(JSON.parse(got[0]!.text)).toMatchObject({
      key: 'dev-0',
      start: T0,
      end: T0 + 60000,
      count: 300,
    });
    expect(expectSameResults(got, want, 0.01)).toBe(3 * want.length);
  });

  it('keeps every configured quantile within a configured 5% over negative, zero and widely spread values', async () => {
    const config: WindowConfig = {
      window: 'tumbling',
      windowMs: 1000,
      aggregates: 'count,p0,p1,p25,p50,p75,p99.9,p100,min,max',
      accuracy: 0.05,
    };
    const { rule } = startRule(await loadRule('quantiles'), config as Record<string, unknown>);
    const reference = new WindowRuleReference(config, QUANTILES);
    const rng = prng(5);
    const events: InEvent[] = [];
    for (let i = 0; i < 6000; i++) {
      const r = rng();
      const magnitude = 10 ** (rng() * 15 - 5); // 1e-5 … 1e10
      const latencyMs = r < 0.1 ? 0 : r < 0.35 ? -magnitude : magnitude;
      events.push({ key: `k${i % 3}`, id: i + 1, payload: { ts: T0 + i, latencyMs } });
    }
    const got = [...run(rule, events), ...readOutputs(rule.flush())];
    const want = reference.process(events).concat(reference.flush());
    expect(want.length).toBe(3 * 6);
    expect(expectSameResults(got, want, 0.05)).toBe(7 * want.length);
    for (const r of got) {
      const body = JSON.parse(r.text) as Record<string, number>;
      expect(body['p0']).toBe(body['min']);
      expect(body['p100']).toBe(body['max']);
    }
  });

  it('merges sketches exactly when sessions merge, and keeps them across snapshot/restore', async () => {
    const config = {
      window: 'session',
      gapMs: 50,
      aggregates: 'count,p50,p99',
      outOfOrderMs: 1000,
    };
    const mod = await loadRule('quantiles');
    let { rule } = startRule(mod, config);
    const rng = prng(9);
    // Two runs of events 30 ms apart with a 90 ms hole, bridged by a late-arriving event.
    const values: number[] = [];
    const events: InEvent[] = [];
    for (let i = 0; i < 40; i++) {
      const ts = T0 + i * 30 + (i >= 20 ? 60 : 0);
      const latencyMs = Math.round(rng() * 1e6) / 100;
      values.push(latencyMs);
      events.push({ key: 'a', id: i + 1, payload: { ts, latencyMs } });
    }
    run(rule, events.slice(0, 30));
    const state = rule.snapshot();
    rule = startRule(mod, config).rule;
    rule.restore(state);
    run(rule, events.slice(30));
    values.push(7);
    run(rule, [{ key: 'a', id: 99, payload: { ts: T0 + 19 * 30 + 45, latencyMs: 7 } }]);
    const out = readOutputs(rule.flush()).map((r) => JSON.parse(r.text) as Record<string, number>);
    expect(out).toHaveLength(1);
    expect(out[0]!['count']).toBe(41);
    for (const q of [0.5, 0.99]) {
      const exact = exactQuantile(values, q);
      expect(Math.abs(out[0]![`p${q * 100}`]! - exact)).toBeLessThanOrEqual(0.01 * exact + 1e-12);
    }
  });
});
