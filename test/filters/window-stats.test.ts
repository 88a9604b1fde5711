import { describe, expect, it } from 'vitest';
import { RuleInitError, RuleRestoreError } from '../../runtime/index.js';
import { actual, expected } from './compare.js';
import { WindowStatsReference, prng, readings, windowResult } from './reference.js';
import { loadRule, readOutputs, run, startRule, windowId } from './rule-harness.js';
import type { InEvent, OutRecord } from './rule-harness.js';

const T0 = 1_700_000_000_000; // a multiple of 1000

function reading(
  key: string,
  id: number,
  ts: number,
  temp: unknown,
  format: 'json' | 'cbor' = 'json',
): InEvent {
  return { key, id, time: ts + 5, payload: { device: key, ts, temp }, format };
}

describe('window-stats', () => {
  it('emits count, sum, min, max and avg per device when a later window starts', async () => {
    const { rule } = startRule(await loadRule('window-stats'));
    const first = run(rule, [
      reading('dev-1', 1, T0 + 10, 20),
      reading('dev-2', 2, T0 + 20, 30, 'cbor'),
      reading('dev-1', 3, T0 + 999, 22.5),
      reading('dev-1', 4, T0 + 500, 18),
    ]);
    expect(first).toEqual([]);
    const second = run(rule, [
      reading('dev-1', 5, T0 + 1000, 25),
      reading('dev-2', 6, T0 + 2500, 31),
    ]);
    expect(second.map((r) => [r.output, r.key, r.id, r.time, JSON.parse(r.text)])).toEqual([
      [
        'default',
        'dev-1',
        windowId('dev-1', T0),
        T0 + 1000,
        {
          key: 'dev-1',
          start: T0,
          end: T0 + 1000,
          count: 3,
          sum: 60.5,
          min: 18,
          max: 22.5,
          avg: 60.5 / 3,
        },
      ],
      [
        'default',
        'dev-2',
        windowId('dev-2', T0),
        T0 + 1000,
        { key: 'dev-2', start: T0, end: T0 + 1000, count: 1, sum: 30, min: 30, max: 30, avg: 30 },
      ],
    ]);
    expect(second.every((r) => r.format === 1 && r.qos === 0)).toBe(true);
  });

  it('closes idle windows on tick once their end is graceMs in the past, and all on flush', async () => {
    const { rule } = startRule(await loadRule('window-stats'), { graceMs: 200 });
    run(rule, [
      reading('a', 1, T0 + 100, 1),
      reading('b', 2, T0 + 1100, 2),
      reading('c', 3, T0 + 5100, 3),
    ]);
    expect(readOutputs(rule.tick(T0 + 1199))).toEqual([]);
    expect(readOutputs(rule.tick(T0 + 1200)).map((r) => [r.key, r.time])).toEqual([
      ['a', T0 + 1000],
    ]);
    expect(readOutputs(rule.tick(T0 + 2200)).map((r) => [r.key, r.time])).toEqual([
      ['b', T0 + 2000],
    ]);
    expect(readOutputs(rule.flush()).map((r) => [r.key, r.time])).toEqual([['c', T0 + 6000]]);
    expect(readOutputs(rule.flush())).toEqual([]);
  });

  it('sends an event for a window that already closed to `late`, unchanged, and counts it', async () => {
    const { rule, host } = startRule(await loadRule('window-stats'));
    run(rule, [reading('a', 1, T0 + 100, 1), reading('a', 2, T0 + 1100, 2)]);
    const out = run(rule, [reading('a', 3, T0 + 900, 3), reading('a', 4, T0 + 1200, 4)]);
    expect(out.map((r) => [r.output, r.id, r.text])).toEqual([
      ['late', 3n, JSON.stringify({ device: 'a', ts: T0 + 900, temp: 3 })],
    ]);
    expect(host.metrics).toContainEqual({ name: 'late', value: 1 });
    expect(JSON.parse(readOutputs(rule.flush())[0]!.text)).toMatchObject({ count: 2, sum: 6 });
  });

  it('sends broken readings to `dead` with the reason and keeps processing', async () => {
    const { rule } = startRule(await loadRule('window-stats'));
    const out = run(rule, [
      { key: 'a', id: 1, payload: '{"ts":1,"temp":' },
      { key: 'a', id: 2, payload: { ts: T0 } },
      { key: 'a', id: 3, payload: { temp: 20 } },
      { key: 'a', id: 4, payload: { temp: 20, ts: 'now' }, format: 'cbor' },
      { key: 'a', id: 5, payload: new Uint8Array([0x1c]), format: 'cbor' },
      reading('a', 6, T0 + 1, 21),
    ]);
    expect(out.map((r) => [r.output, r.id, r.text])).toEqual([
      ['dead', 1n, 'payload is not valid JSON'],
      ['dead', 2n, 'field "temp" is missing'],
      ['dead', 3n, 'field "ts" is missing'],
      ['dead', 4n, 'field "ts" is not a number'],
      ['dead', 5n, 'payload is not well-formed CBOR'],
    ]);
    expect(JSON.parse(readOutputs(rule.flush())[0]!.text)).toMatchObject({
      key: 'a',
      count: 1,
      sum: 21,
    });
  });

  it('drops readings outside [min, max] and reports how many per batch', async () => {
    const { rule, host } = startRule(await loadRule('window-stats'), { min: 0, max: 50 });
    run(rule, [
      reading('a', 1, T0, -1),
      reading('a', 2, T0, 51),
      reading('a', 3, T0, 50),
      reading('a', 4, T0, 0),
    ]);
    expect(host.metrics).toEqual([{ name: 'dropped', value: 2 }]);
    expect(JSON.parse(readOutputs(rule.flush())[0]!.text)).toMatchObject({
      count: 2,
      min: 0,
      max: 50,
    });
  });

  it('uses the arrival time when timeField is empty', async () => {
    const { rule } = startRule(await loadRule('window-stats'), { timeField: '' });
    const out = run(rule, [
      { key: 'a', id: 1, time: T0 + 999, payload: { temp: 1, ts: T0 + 5000 } },
      { key: 'a', id: 2, time: T0 + 1000, payload: { temp: 2, ts: T0 + 5000 } },
    ]);
    expect(out.map((r) => JSON.parse(r.text) as unknown)).toEqual([
      { key: 'a', start: T0, end: T0 + 1000, count: 1, sum: 1, min: 1, max: 1, avg: 1 },
    ]);
  });

  it('refuses a configuration it cannot run with, naming the key', async () => {
    const mod = await loadRule('window-stats');
    expect(() => startRule(mod, { windowMs: 0 })).toThrow(
      /config\.windowMs: got 0, expected a positive number/,
    );
    expect(() => startRule(mod, { windowMs: '1s' })).toThrow(
      /config\.windowMs: got the string "1s", expected an integer/,
    );
    expect(() => startRule(mod, { graceMs: -5 })).toThrow(RuleInitError);
    expect(() => startRule(mod, { min: 10, max: 0 })).toThrow(
      /config\.min \(10\.0\) is greater than config\.max \(0\.0\)/,
    );
  });

  it('matches a JS reference exactly on 1000 devices over many windows, across snapshot/restore and ticks', async () => {
    const mod = await loadRule('window-stats');
    const config = {
      field: 'temp',
      timeField: 'ts',
      windowMs: 1000,
      graceMs: 300,
      min: -40,
      max: 125,
    };
    const reference = new WindowStatsReference(config);
    const rng = prng(7);
    let clock = T0;
    let n = 0;
    const jittered = () => {
      n++;
      if (n % 5 === 0) clock++;
      // Mostly in order; 2% arrive up to 3 s late.
      return clock - Math.floor(rng() < 0.02 ? rng() * 3000 : rng() * 50);
    };
    let { rule } = startRule(mod, config);
    const got: OutRecord[] = [];
    const want: ReturnType<WindowStatsReference['process']> = [];
    let id = 1;
    let batches = 0;
    let restored = false;
    while (id <= 40_000) {
      const size = 1 + Math.floor(rng() * 500);
      // Devices 500..999 go quiet for a while in the middle: their windows close by tick only.
      const quiet = id > 15_000 && id < 25_000;
      const events = readings(rng, size, id, jittered, {
        devices: quiet ? 500 : 1000,
        broken: 0.03,
      });
      id += size;
      got.push(...run(rule, events, clock));
      want.push(...reference.process(events));
      got.push(...readOutputs(rule.tick(clock)));
      want.push(...reference.tick(clock));
      batches++;
      if (!restored && id > 20_000) {
        const state = rule.snapshot();
        rule = startRule(mod, config).rule;
        rule.restore(state);
        restored = true;
      }
    }
    got.push(...readOutputs(rule.flush()));
    want.push(...reference.flush());
    const windows = want.filter((r) => r.output === 'default').length;
    expect(windows).toBeGreaterThan(5000);
    expect(want.filter((r) => r.output === 'late').length).toBeGreaterThan(50);
    expect(want.filter((r) => r.output === 'dead').length).toBeGreaterThan(500);
    expect(batches).toBeGreaterThan(100);
    expect(actual(got)).toEqual(expected(want));
  });

  it('refuses a snapshot of windows of another size and keeps its own state', async () => {
    const mod = await loadRule('window-stats');
    const a = startRule(mod, { windowMs: 500 }).rule;
    run(a, [reading('x', 1, T0, 1)]);
    const b = startRule(mod, { windowMs: 1000 }).rule;
    run(b, [reading('y', 2, T0, 2)]);
    expect(() => b.restore(a.snapshot())).toThrow(RuleRestoreError);
    expect(() => b.restore(a.snapshot())).toThrow(
      /state holds windows of 500 ms but the rule is configured for 1000 ms/,
    );
    expect(readOutputs(b.flush()).map((r) => r.key)).toEqual(['y']);
  });

  it('refuses a truncated snapshot and keeps its own state', async () => {
    const mod = await loadRule('window-stats');
    const { rule } = startRule(mod);
    run(rule, [reading('x', 1, T0, 1), reading('y', 2, T0, 2)]);
    const state = rule.snapshot();
    for (const cut of [5, 12, 20, state.length - 1]) {
      expect(() => rule.restore(state.subarray(0, cut)), `cut at ${cut}`).toThrow(RuleRestoreError);
    }
    const out = readOutputs(rule.flush());
    expect(out.map((r) => JSON.parse(r.text) as unknown)).toEqual(
      [windowResult('x', T0, 1000, 1, 1, 1, 1), windowResult('y', T0, 1000, 1, 2, 2, 2)].map(
        (e) => JSON.parse(e.text) as unknown,
      ),
    );
  });
});
