/**
 * Window state across snapshot/restore: every kind's state is versioned and tied to what shapes
 * it (kind, lengths, aggregates, sketch accuracy, key); a restore of any other state is refused
 * with a message naming both sides, and leaves the rule as it was. Also the config errors of
 * the window keys.
 */
import { describe, expect, it } from 'vitest';
import { RuleInitError, RuleRestoreError, RuleTrapError } from '../../runtime/index.js';
import { prng } from './reference.js';
import { loadRule, readOutputs, run, startRule } from './rule-harness.js';
import type { InEvent } from './rule-harness.js';
import { outOfOrderStream } from './window-compare.js';

const T0 = 1_700_000_000_000;

function readingsFor(seed: number, n = 400): InEvent[] {
  return outOfOrderStream(prng(seed), n, 1, { now: T0 }, { devices: 6, sites: true });
}

async function stateOf(
  config: Record<string, unknown>,
  module = 'window-stats',
): Promise<Uint8Array> {
  const { rule } = startRule(await loadRule(module), config);
  run(rule, readingsFor(3));
  return rule.snapshot().slice();
}

describe('window state', () => {
  it('refuses the state of other windows, naming what the state holds and what the rule expects', async () => {
    const mod = await loadRule('window-stats');
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [
        { window: 'session', gapMs: 5000 },
        {},
        /state holds session windows with a gap of 5000 ms but the rule is configured for windows of 1000 ms/,
      ],
      [
        { window: 'hopping', windowMs: 1000, slideMs: 250 },
        { window: 'hopping', windowMs: 1000, slideMs: 500 },
        /state holds hopping windows of 1000 ms every 250 ms but the rule is configured for 1000 ms every 500 ms/,
      ],
      [
        { window: 'count', windowCount: 10 },
        { window: 'count', windowCount: 20 },
        /state holds count windows of 10 events but the rule is configured for 20 events/,
      ],
      [
        { window: 'sliding', windowMs: 300 },
        { window: 'tumbling', windowMs: 300 },
        /state holds sliding windows of 300 ms but the rule is configured for windows of 300 ms/,
      ],
      [
        {},
        { aggregates: 'count,p99' },
        /state holds windows computing count,sum,min,max,avg but the rule computes count,p99/,
      ],
      [
        { aggregates: 'count,p99' },
        { aggregates: 'count,p99', accuracy: 0.02 },
        /state holds quantile sketches of accuracy 0\.01 but the rule is configured for 0\.02/,
      ],
      [
        { keyField: 'site' },
        {},
        /state holds windows keyed by field "site" but the rule keys by the event key/,
      ],
    ];
    for (const [from, to, message] of cases) {
      const state = await stateOf(from);
      const { rule } = startRule(mod, to);
      run(rule, [{ key: 'mine', id: 9, payload: { ts: T0, temp: 1, site: 's' } }]);
      expect(() => rule.restore(state), JSON.stringify(to)).toThrow(message);
      expect(readOutputs(rule.flush()).map((r) => r.key)).toContain(
        to.keyField === 'site' ? 's' : 'mine',
      );
    }
  });

  it('refuses a state of another version or of another rule with the tags it found', async () => {
    const mod = await loadRule('window-stats');
    const { rule } = startRule(mod);
    // A version-1 snapshot of the old TumblingWindows: SLS1, then the tag WIN1.
    const v1 = new Uint8Array([
      0x53, 0x4c, 0x53, 0x31, 0x57, 0x49, 0x4e, 0x31, 0xe8, 3, 0, 0, 0, 0, 0, 0,
    ]);
    expect(() => rule.restore(v1)).toThrow(
      /state does not hold windows \(version 2\) \(tag 0x314e4957, expected 0x32444e57\)/,
    );
    const door = await stateOf({}, 'door-alarm');
    expect(() => rule.restore(door)).toThrow(
      /state does not hold windows \(version 2\) \(tag 0x31544150/,
    );
    const doorRule = startRule(await loadRule('door-alarm')).rule;
    const windows = await stateOf({});
    expect(() => doorRule.restore(windows)).toThrow(/state does not hold a pattern \(version 1\)/);
  });

  it('accepts a state when only outOfOrderMs, latenessMs, idleMs or the watermark scope changed', async () => {
    const mod = await loadRule('window-stats');
    const state = await stateOf({ window: 'session', gapMs: 100, aggregates: 'count,p50' });
    const { rule } = startRule(mod, {
      window: 'session',
      gapMs: 100,
      aggregates: 'count,p50',
      outOfOrderMs: 500,
      latenessMs: 50,
      idleMs: -1,
      watermark: 'global',
    });
    rule.restore(state);
    expect(readOutputs(rule.flush()).length).toBeGreaterThan(0);
  });

  for (const config of [
    { window: 'sliding', windowMs: 200, aggregates: 'count,stddev,p90' },
    { window: 'session', gapMs: 100, aggregates: 'count,first,last,p50' },
    { window: 'hopping', windowMs: 400, slideMs: 100, aggregates: 'sum,p99' },
  ]) {
    it(`refuses every truncation of a ${config.window} state and survives corrupted ones without trapping`, async () => {
      const mod = await loadRule('window-stats');
      const state = await stateOf(config);
      const { rule } = startRule(mod, config);
      run(rule, [{ key: 'mine', id: 9, payload: { ts: T0, temp: 1 } }]);
      for (let cut = 0; cut < state.length; cut += Math.max(1, Math.floor(state.length / 300))) {
        expect(() => rule.restore(state.subarray(0, cut)), `cut at ${cut}`).toThrow(
          RuleRestoreError,
        );
      }
      expect(new Set(readOutputs(rule.flush()).map((r) => r.key))).toEqual(new Set(['mine']));
      const rng = prng(5);
      for (let i = 0; i < 200; i++) {
        const bad = state.slice();
        for (let j = 0; j < 3; j++) bad[Math.floor(rng() * bad.length)] = Math.floor(rng() * 256);
        try {
          rule.restore(bad);
        } catch (error) {
          expect(error).toBeInstanceOf(RuleRestoreError);
        }
        const out = () => readOutputs(rule.flush());
        expect(out).not.toThrow(RuleTrapError);
      }
    });
  }

  it('refuses window configs it cannot run with, naming the key, the value and the fix', async () => {
    const mod = await loadRule('window-stats');
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { window: 'tumble' },
        /config\.window: got "tumble", expected "tumbling", "hopping", "sliding", "session" or "count"/,
      ],
      [
        { window: 'hopping', windowMs: 1000, slideMs: 2000 },
        /config\.slideMs: got 2000, expected at most windowMs \(1000\)/,
      ],
      [
        { window: 'hopping', windowMs: 100000, slideMs: 10 },
        /puts every event in 10000 windows \(at most 1000\)/,
      ],
      [
        { window: 'session', gapMs: 0 },
        /config\.gapMs: got 0, expected a positive number of milliseconds/,
      ],
      [
        { window: 'count', windowCount: 0 },
        /config\.windowCount: got 0, expected a positive number of events/,
      ],
      [
        { aggregates: 'count,p101' },
        /config\.aggregates: "p101" is not an aggregate \(expected count, sum, min/,
      ],
      [{ aggregates: 'count,count' }, /config\.aggregates: "count" is listed twice/],
      [{ aggregates: '' }, /config\.aggregates: no aggregate is listed/],
      [
        { accuracy: 0 },
        /config\.accuracy: got 0\.0, expected a relative error above 0 and at most 0\.5/,
      ],
      [
        { timeFormat: 'unix' },
        /config\.timeFormat: got "unix", expected "ms", "s", "iso" or "auto"/,
      ],
      [{ watermark: 'local' }, /config\.watermark: got "local", expected "key" or "global"/],
      [{ outOfOrderMs: -1 }, /config\.outOfOrderMs: got -1, expected 0 or more milliseconds/],
      [{ idleMs: -2 }, /config\.idleMs: got -2, expected 0 or more milliseconds, or -1 for never/],
    ];
    for (const [config, message] of cases) {
      expect(() => startRule(mod, config), JSON.stringify(config)).toThrow(RuleInitError);
      expect(() => startRule(mod, config), JSON.stringify(config)).toThrow(message);
    }
  });
});
