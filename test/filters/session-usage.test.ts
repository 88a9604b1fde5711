/**
 * session-usage: per-device sessions of activity (session windows with the defaults of the
 * example rule), by example and against the JS reference.
 */
import { describe, expect, it } from 'vitest';
import { prng } from './reference.js';
import { loadRule, readOutputs, run, startRule, windowId } from './rule-harness.js';
import type { InEvent } from './rule-harness.js';
import { WindowRuleReference } from './window-reference.js';
import type { WindowConfig } from './window-reference.js';
import { expectSameResults, outOfOrderStream } from './window-compare.js';

const T0 = 1_700_000_000_000;
const SESSION_USAGE: WindowConfig = {
  window: 'session',
  gapMs: 300_000,
  timeField: 'ts',
  aggregates: 'count,duration',
};

function ping(key: string, id: number, ts: number, kwh = 1): InEvent {
  return { key, id, time: ts, payload: { ts, kwh } };
}

describe('session-usage', () => {
  it('reports each run of activity less than gapMs apart as one session, closed by the next event or tick', async () => {
    const { rule } = startRule(await loadRule('session-usage'));
    run(rule, [ping('m1', 1, T0), ping('m1', 2, T0 + 60_000), ping('m1', 3, T0 + 120_000)]);
    const out = run(rule, [ping('m1', 4, T0 + 700_000)]);
    expect(out.map((r) => [r.key, r.id, r.time, JSON.parse(r.text)])).toEqual([
      [
        'm1',
        windowId('m1', T0),
        T0 + 420_000,
        { key: 'm1', start: T0, end: T0 + 420_000, count: 3, duration: 120_000 },
      ],
    ]);
    expect(readOutputs(rule.tick(T0 + 1_299_999))).toEqual([]);
    expect(
      readOutputs(rule.tick(T0 + 1_300_000)).map((r) => JSON.parse(r.text) as unknown),
    ).toEqual([{ key: 'm1', start: T0 + 700_000, end: T0 + 1_000_000, count: 1, duration: 0 }]);
  });

  it('sums a field per session when configured to', async () => {
    const { rule } = startRule(await loadRule('session-usage'), {
      field: 'kwh',
      gapMs: 1000,
      aggregates: 'count,duration,sum,max',
    });
    run(rule, [ping('m1', 1, T0, 1.5), ping('m1', 2, T0 + 500, 2), ping('m1', 3, T0 + 400, 0.5)]);
    expect(readOutputs(rule.flush()).map((r) => JSON.parse(r.text) as unknown)).toEqual([
      { key: 'm1', start: T0, end: T0 + 1500, count: 3, duration: 500, sum: 4, max: 2 },
    ]);
  });

  it('matches the JS reference on out-of-order streams that bridge sessions', async () => {
    const config: WindowConfig = { gapMs: 150, outOfOrderMs: 200, idleMs: 300 };
    const { rule } = startRule(await loadRule('session-usage'), config as Record<string, unknown>);
    const reference = new WindowRuleReference(config, SESSION_USAGE);
    const rng = prng(41);
    const clock = { now: T0 };
    const got = [];
    const want = [];
    for (let id = 1; id < 3000; id += 50) {
      const events = outOfOrderStream(rng, 50, id, clock, { devices: 8, pauses: 0.02 });
      got.push(...run(rule, events), ...readOutputs(rule.tick(clock.now)));
      want.push(...reference.process(events), ...reference.tick(clock.now));
    }
    got.push(...readOutputs(rule.flush()));
    want.push(...reference.flush());
    expect(want.filter((r) => r.output === 'default').length).toBeGreaterThan(100);
    expectSameResults(got, want);
  });
});
