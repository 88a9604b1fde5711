/**
 * Event time in the window SDK through window-stats: time formats (epoch ms, epoch s, ISO-8601,
 * auto), watermarks with bounded out-of-orderness and allowed lateness, per-key and global
 * watermarks, late events, and windows closed by `tick` alone.
 */
import { describe, expect, it } from 'vitest';
import { prng } from './reference.js';
import type { Expected } from './reference.js';
import { loadRule, readOutputs, run, startRule, windowId } from './rule-harness.js';
import type { InEvent, OutRecord } from './rule-harness.js';
import { WindowRuleReference } from './window-reference.js';
import type { WindowConfig } from './window-reference.js';
import { expectSameResults } from './window-compare.js';

const T0 = 1_700_000_000_000;

function reading(key: string, id: number, ts: unknown, temp = 1, arrival = T0): InEvent {
  return { key, id, time: arrival, payload: { ts, temp } };
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

/** The SDK's ISO-8601 rules (filters/sdk/iso-time.ts), written with a regular expression. */
function isoMs(text: string): number | undefined {
  const m = ISO.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', , sign, zh = '0', zm = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || day < 1 || day > days) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 || Number(zh) > 23 || Number(zm) > 59) {
    return undefined;
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(Number(h), Number(mi), Number(s), Number(frac.slice(0, 3).padEnd(3, '0')));
  const offset = (Number(zh) * 60 + Number(zm)) * 60_000;
  return date.getTime() + (sign === '+' ? -offset : sign === '-' ? offset : 0);
}

/** Random timestamps in many valid forms, and broken ones. */
function isoTexts(rng: () => number, n: number): string[] {
  const pad = (v: number, w = 2) => String(v).padStart(w, '0');
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const year = rng() < 0.9 ? 1960 + Math.floor(rng() * 150) : Math.floor(rng() * 10000);
    const month = rng() < 0.97 ? 1 + Math.floor(rng() * 12) : pick([0, 13]);
    const day = rng() < 0.9 ? 1 + Math.floor(rng() * 28) : pick([29, 30, 31, 0, 32]);
    let s = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
    if (rng() < 0.9) {
      const hour = rng() < 0.97 ? Math.floor(rng() * 24) : 24;
      const minute = rng() < 0.97 ? Math.floor(rng() * 60) : 60;
      s += `${pick(['T', 'T', 'T', 't', ' '])}${pad(hour)}:${pad(minute)}`;
      if (rng() < 0.85) {
        s += `:${pad(rng() < 0.97 ? Math.floor(rng() * 60) : 60)}`;
        if (rng() < 0.6) {
          const digits = 1 + Math.floor(rng() * 7);
          s +=
            pick(['.', '.', ',']) + String(Math.floor(rng() * 10 ** digits)).padStart(digits, '0');
        }
      }
      s += pick(['Z', 'Z', 'z', '', '+01:00', '-05:30', '+0530', '-11', '+23:59', '+24:00', 'Q']);
    }
    if (rng() < 0.05) s = s.slice(0, Math.floor(rng() * s.length));
    if (rng() < 0.03) s += pick([' ', 'x', '0', ':']);
    out.push(s);
  }
  return out;
}

/** One event per key, a 1 ms window each: the result's start is the event time the rule read. */
function timesRead(out: readonly OutRecord[]): Map<string, number | string> {
  const read = new Map<string, number | string>();
  for (const r of out) {
    if (r.output === 'default') read.set(r.key, (JSON.parse(r.text) as { start: number }).start);
    else read.set(r.key, r.text);
  }
  return read;
}

describe('event time', () => {
  it('reads ISO-8601 timestamps in place exactly as the documented rules say', async () => {
    const { rule } = startRule(await loadRule('window-stats'), {
      timeFormat: 'iso',
      windowMs: 1,
      field: '',
      aggregates: 'count',
    });
    const texts = [
      '2024-02-29T23:59:59.999Z',
      '2023-02-29T00:00:00Z',
      '1969-12-31T23:59:59.5-01:00',
      '0001-01-01',
      '2024-05-01 12:00+0200',
      ...isoTexts(prng(11), 3000),
    ];
    const events = texts.map((ts, i) => reading(`e${i}`, i + 1, ts));
    const out = [...run(rule, events), ...readOutputs(rule.flush())];
    const read = timesRead(out);
    let valid = 0;
    texts.forEach((text, i) => {
      const want = isoMs(text);
      if (want !== undefined) valid++;
      expect(read.get(`e${i}`), text).toBe(want ?? 'field "ts" is not a timestamp');
    });
    expect(valid).toBeGreaterThan(1500);
    expect(texts.length - valid).toBeGreaterThan(300);
  });

  it('reads epoch seconds (to the microsecond), epoch ms, and numbers or text with "auto"', async () => {
    const mod = await loadRule('window-stats');
    const cases: [string, unknown[], (v: unknown) => number | string][] = [
      [
        's',
        [1700000000, 1700000000.123, 1700000000.1239, -1.5, 'soon'],
        (v) =>
          typeof v === 'number'
            ? Math.floor(Math.round(v * 1e6) / 1000)
            : 'field "ts" is not a number',
      ],
      [
        'ms',
        [T0, T0 + 0.9, -5.5, 2 ** 53],
        (v) => (v === 2 ** 53 ? 'field "ts" is not an integer' : Math.floor(v as number)),
      ],
      [
        'auto',
        [1700000000.5, T0, '2024-01-01T00:00:00Z', true, 99999999999],
        (v) =>
          typeof v === 'string'
            ? isoMs(v)!
            : typeof v !== 'number'
              ? 'field "ts" is not a timestamp'
              : Math.abs(v) < 1e11
                ? Math.floor(Math.round(v * 1e6) / 1000)
                : Math.floor(v),
      ],
    ];
    for (const [timeFormat, values, expected] of cases) {
      const { rule } = startRule(mod, { timeFormat, windowMs: 1, field: '', aggregates: 'count' });
      const events = values.map((ts, i) => reading(`e${i}`, i + 1, ts));
      const read = timesRead([...run(rule, events), ...readOutputs(rule.flush())]);
      values.forEach((v, i) =>
        expect(read.get(`e${i}`), `${timeFormat} ${String(v)}`).toBe(expected(v)),
      );
    }
  });

  it('waits outOfOrderMs for readings that arrive out of order, then sends later ones to `late`', async () => {
    const { rule } = startRule(await loadRule('window-stats'), { outOfOrderMs: 2000 });
    expect(run(rule, [reading('a', 1, T0 + 100, 1), reading('a', 2, T0 + 2500, 2)])).toEqual([]);
    // 1.9 s behind the latest reading: within the bound, counted in its window.
    expect(run(rule, [reading('a', 3, T0 + 600, 3)])).toEqual([]);
    // The watermark passes T0 + 1000 only when a reading at T0 + 3000 or later arrives.
    const closed = run(rule, [reading('a', 4, T0 + 3000, 4)]);
    expect(closed.map((r) => JSON.parse(r.text) as unknown)).toEqual([
      { key: 'a', start: T0, end: T0 + 1000, count: 2, sum: 4, min: 1, max: 3, avg: 2 },
    ]);
    expect(run(rule, [reading('a', 5, T0 + 999, 5)]).map((r) => [r.output, r.id])).toEqual([
      ['late', 5n],
    ]);
  });

  it('keeps a window open latenessMs past the watermark', async () => {
    const { rule } = startRule(await loadRule('window-stats'), {
      outOfOrderMs: 100,
      latenessMs: 400,
    });
    run(rule, [reading('a', 1, T0 + 10, 1), reading('a', 2, T0 + 1400, 2)]);
    expect(run(rule, [reading('a', 3, T0 + 20, 3)])).toEqual([]);
    const out = run(rule, [reading('a', 4, T0 + 1500, 4), reading('a', 5, T0 + 30, 5)]);
    expect(out.map((r) => [r.output, r.id, r.time])).toEqual([
      ['default', windowId('a', T0), T0 + 1000],
      ['late', 5n, T0],
    ]);
    expect(JSON.parse(out[0]!.text)).toMatchObject({ count: 2, sum: 4 });
  });

  it('judges each device by its own clock with per-key watermarks, and by the fastest with a global one', async () => {
    const mod = await loadRule('window-stats');
    // Device "slow" runs 10 s behind "fast"; both send in order.
    const events = [
      reading('fast', 1, T0 + 10_000),
      reading('slow', 2, T0 + 100),
      reading('fast', 3, T0 + 11_000),
      reading('slow', 4, T0 + 1100),
    ];
    const perKey = startRule(mod, { outOfOrderMs: 500 }).rule;
    expect(run(perKey, events).filter((r) => r.output === 'late')).toEqual([]);
    const global = startRule(mod, { outOfOrderMs: 500, watermark: 'global' }).rule;
    expect(
      run(global, events)
        .filter((r) => r.output === 'late')
        .map((r) => r.id),
    ).toEqual([2n, 4n]);
  });

  it('groups by a payload field, sends events without it to `dead`, and counts late events it does not forward', async () => {
    const { rule, host } = startRule(await loadRule('window-stats'), {
      keyField: 'site',
      lateOutput: '',
      aggregates: 'count',
    });
    const out = run(rule, [
      { key: 'dev-1', id: 1, payload: { ts: T0 + 5, temp: 1, site: 'north' } },
      { key: 'dev-2', id: 2, payload: { ts: T0 + 6, temp: 1, site: 'north' } },
      { key: 'dev-3', id: 3, payload: { ts: T0 + 7, temp: 1 } },
      { key: 'dev-4', id: 4, payload: { ts: T0 + 8, temp: 1, site: 7 } },
      { key: 'dev-1', id: 5, payload: { ts: T0 + 1005, temp: 1, site: 'north' } },
      { key: 'dev-2', id: 6, payload: { ts: T0 + 9, temp: 1, site: 'north' } },
    ]);
    expect(out.map((r) => [r.output, r.key, r.text])).toEqual([
      ['dead', 'dev-3', 'field "site" is missing'],
      ['dead', 'dev-4', 'field "site" is not a string'],
      ['default', 'north', JSON.stringify({ key: 'north', start: T0, end: T0 + 1000, count: 2 })],
    ]);
    expect(host.metrics).toContainEqual({ name: 'late', value: 1 });
  });

  it('puts an event into every hopping window that contains it', async () => {
    const { rule } = startRule(await loadRule('window-stats'), {
      window: 'hopping',
      windowMs: 1000,
      slideMs: 250,
      aggregates: 'count,sum',
    });
    run(rule, [reading('a', 1, T0 + 600, 5)]);
    const out = readOutputs(rule.flush()).map((r) => JSON.parse(r.text) as { start: number });
    expect(out.map((r) => r.start - T0)).toEqual([-250, 0, 250, 500]);
  });
});

describe('tick', () => {
  it('closes the windows of keys that went quiet once now passes end + idleMs + outOfOrderMs', async () => {
    const { rule } = startRule(await loadRule('window-stats'), { outOfOrderMs: 300, idleMs: 200 });
    run(rule, [reading('a', 1, T0 + 100, 1), reading('b', 2, T0 + 1100, 2)]);
    expect(readOutputs(rule.tick(T0 + 1499))).toEqual([]);
    expect(readOutputs(rule.tick(T0 + 1500)).map((r) => [r.key, r.time])).toEqual([
      ['a', T0 + 1000],
    ]);
    expect(readOutputs(rule.tick(T0 + 2500)).map((r) => [r.key, r.time])).toEqual([
      ['b', T0 + 2000],
    ]);
    // Closed by the clock: a reading for that window is now late.
    expect(run(rule, [reading('a', 3, T0 + 500)]).map((r) => r.output)).toEqual(['late']);
  });

  it('never closes a window by the clock with idleMs -1', async () => {
    const { rule } = startRule(await loadRule('window-stats'), { idleMs: -1 });
    run(rule, [reading('a', 1, T0 + 100, 1)]);
    expect(readOutputs(rule.tick(T0 + 1e9))).toEqual([]);
    expect(readOutputs(rule.flush())).toHaveLength(1);
  });

  const kinds: Record<string, WindowConfig> = {
    tumbling: { window: 'tumbling', windowMs: 1000 },
    hopping: { window: 'hopping', windowMs: 1000, slideMs: 500 },
    sliding: { window: 'sliding', windowMs: 300 },
    session: { window: 'session', gapMs: 200 },
    count: { window: 'count', windowCount: 7 },
  };
  for (const [kind, base] of Object.entries(kinds)) {
    it(`closes every ${kind} window through tick alone when no more events arrive`, async () => {
      const config: WindowConfig = {
        ...base,
        outOfOrderMs: 250,
        idleMs: 400,
        aggregates: 'count,sum,min,max,first,last,duration',
      };
      const { rule } = startRule(await loadRule('window-stats'), config as Record<string, unknown>);
      const reference = new WindowRuleReference(config, { field: 'temp', timeField: 'ts' });
      const rng = prng(77);
      const events: InEvent[] = [];
      for (let i = 0; i < 300; i++) {
        const ts = T0 + i * 10 - Math.floor(rng() * 200);
        events.push(reading(`dev-${i % 5}`, i + 1, ts, Math.round(rng() * 100)));
      }
      const got: OutRecord[] = run(rule, events);
      const want: Expected[] = reference.process(events);
      const open = want.length;
      // Only the clock moves from here on.
      for (let now = T0 + 2000; now <= T0 + 6000; now += 100) {
        got.push(...readOutputs(rule.tick(now)));
        want.push(...reference.tick(now));
      }
      expect(want.length).toBeGreaterThan(open + 4);
      expectSameResults(got, want);
      expect(readOutputs(rule.flush())).toEqual([]);
    });
  }
});
