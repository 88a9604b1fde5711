/**
 * door-alarm (the SDK's `Pattern` helper, "A then no B within T"): alarms through `tick` when a
 * door stays open, none when it closes in time even out of order, late events after a judged
 * deadline, the "followed" form, and a property test against the JS reference.
 */
import { describe, expect, it } from 'vitest';
import { RuleInitError } from '../../runtime/index.js';
import { actual, expected } from './compare.js';
import { prng } from './reference.js';
import type { Expected } from './reference.js';
import { loadRule, readOutputs, run, startRule, windowId } from './rule-harness.js';
import type { InEvent, OutRecord } from './rule-harness.js';
import { DoorAlarmReference } from './pattern-reference.js';
import type { DoorConfig } from './pattern-reference.js';

const T0 = 1_700_000_000_000;
const MIN5 = 300_000;

function door(key: string, id: number, ts: number, state: string): InEvent {
  return { key, id, time: ts, payload: { ts, door: state } };
}

describe('door-alarm', () => {
  it('raises an alarm through tick alone when a door stays open past withinMs', async () => {
    const { rule } = startRule(await loadRule('door-alarm'));
    expect(run(rule, [door('d1', 1, T0, 'open')])).toEqual([]);
    expect(readOutputs(rule.tick(T0 + MIN5 - 1))).toEqual([]);
    const alarm = readOutputs(rule.tick(T0 + MIN5));
    expect(alarm.map((r) => [r.output, r.key, r.id, r.time, JSON.parse(r.text)])).toEqual([
      [
        'default',
        'd1',
        windowId('d1', T0),
        T0 + MIN5,
        { key: 'd1', pattern: 'door-open', since: T0, deadline: T0 + MIN5 },
      ],
    ]);
    expect(readOutputs(rule.tick(T0 + 2 * MIN5))).toEqual([]);
    // A close that would have answered it arrives after the alarm: late, unchanged.
    expect(run(rule, [door('d1', 2, T0 + 1000, 'closed')]).map((r) => [r.output, r.id])).toEqual([
      ['late', 2n],
    ]);
  });

  it('raises no alarm when the door closes in time, even if the close arrives first', async () => {
    const { rule } = startRule(await loadRule('door-alarm'), { outOfOrderMs: 5000 });
    run(rule, [door('d1', 1, T0, 'open'), door('d1', 2, T0 + 60_000, 'closed')]);
    run(rule, [door('d2', 4, T0 + 2000, 'closed'), door('d2', 3, T0 + 1000, 'open')]);
    run(rule, [door('d3', 5, T0, 'ajar'), door('d3', 6, T0 + 1, 'open')]);
    const out = readOutputs(rule.tick(T0 + 10 * MIN5));
    expect(out.map((r) => r.key)).toEqual(['d3']);
  });

  it('judges an open door by later events of the same door, and waits outOfOrderMs for them', async () => {
    const { rule } = startRule(await loadRule('door-alarm'), { outOfOrderMs: 10_000, idleMs: -1 });
    run(rule, [door('d1', 1, T0, 'open')]);
    expect(run(rule, [door('d1', 2, T0 + MIN5 + 9_000, 'ajar')])).toEqual([]);
    expect(run(rule, [door('d1', 3, T0 + MIN5 + 10_000, 'ajar')]).map((r) => r.key)).toEqual([
      'd1',
    ]);
  });

  it('writes a match when the door closes within withinMs in "followed" mode', async () => {
    const { rule } = startRule(await loadRule('door-alarm'), {
      mode: 'followed',
      withinMs: 1000,
      label: '',
    });
    const out = run(rule, [door('d1', 1, T0, 'open'), door('d1', 2, T0 + 400, 'closed')]);
    expect(out.map((r) => [r.id, r.time, JSON.parse(r.text)])).toEqual([
      [2n, T0 + 400, { key: 'd1', first: T0, second: T0 + 400, elapsedMs: 400 }],
    ]);
  });

  it('refuses a config it cannot run with', async () => {
    const mod = await loadRule('door-alarm');
    expect(() => startRule(mod, { openValue: 'x', closedValue: 'x' })).toThrow(
      /config\.openValue and config\.closedValue are both "x"/,
    );
    expect(() => startRule(mod, { mode: 'never' })).toThrow(
      /config\.mode: got "never", expected "absent" or "followed"/,
    );
    expect(() => startRule(mod, { withinMs: 0 })).toThrow(RuleInitError);
  });

  for (const [seed, config] of [
    [31, {}],
    [32, { outOfOrderMs: 20_000, latenessMs: 5000, idleMs: 1000 }],
    [33, { mode: 'followed', withinMs: 60_000, outOfOrderMs: 10_000 }],
  ] as [number, DoorConfig][]) {
    it(`matches the JS reference on random door streams with a restore midway (seed ${seed}, ${JSON.stringify(config)})`, async () => {
      const mod = await loadRule('door-alarm');
      let { rule } = startRule(mod, config as Record<string, unknown>);
      const reference = new DoorAlarmReference(config);
      const rng = prng(seed);
      const got: OutRecord[] = [];
      const want: Expected[] = [];
      let clock = T0;
      let id = 1;
      for (let batch = 0; batch < 120; batch++) {
        const events: InEvent[] = [];
        for (let i = 0, n = Math.floor(rng() * 20); i < n; i++) {
          clock += Math.floor(rng() * 30_000);
          const delay = rng() < 0.2 ? Math.floor(rng() * 60_000) : 0;
          const state = rng() < 0.45 ? 'open' : rng() < 0.85 ? 'closed' : 'ajar';
          events.push({
            ...door(`d${Math.floor(rng() * 6)}`, id++, clock - delay, state),
            time: clock,
          });
        }
        got.push(...run(rule, events, clock));
        want.push(...reference.process(events));
        const now = clock + Math.floor(rng() * 200_000);
        got.push(...readOutputs(rule.tick(now)));
        want.push(...reference.tick(now));
        if (batch === 60) {
          const state = rule.snapshot();
          rule = startRule(mod, config as Record<string, unknown>).rule;
          rule.restore(state);
        }
      }
      expect(want.filter((r) => r.output === 'default').length).toBeGreaterThan(20);
      expect(want.filter((r) => r.output === 'late').length).toBeGreaterThan(3);
      expect(actual(got)).toEqual(expected(want));
    });
  }
});
