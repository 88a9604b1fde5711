import { describe, expect, it } from 'vitest';
import { actual, expected } from './compare.js';
import { prng, readNumber, readings } from './reference.js';
import type { Expected } from './reference.js';
import { frameOf, loadRule, payloadBytes, readOutputs, run, startRule } from './rule-harness.js';
import type { InEvent } from './rule-harness.js';

const decoder = new TextDecoder();

/** threshold in plain JS. */
function reference(
  events: readonly InEvent[],
  field: string,
  min: number,
  max: number,
): { out: Expected[]; dropped: number } {
  const out: Expected[] = [];
  let dropped = 0;
  for (const e of events) {
    const v = readNumber(e, field);
    const base = { key: e.key, id: BigInt(e.id), time: e.time ?? 0 };
    if (typeof v !== 'number') out.push({ ...base, output: 'dead', text: v.reason });
    else if (v >= min && v <= max)
      out.push({ ...base, output: 'default', text: decoder.decode(payloadBytes(e)) });
    else dropped++;
  }
  return { out, dropped };
}

describe('threshold', () => {
  it('forwards readings within [min, max] unchanged and drops the others', async () => {
    const { rule, host } = startRule(await loadRule('threshold'), { min: 0, max: 30 });
    const events: InEvent[] = [
      { key: 'dev-1', id: 1, time: 10, payload: '{"temp":0}' },
      { key: 'dev-1', id: 2, time: 11, payload: '{"temp":30}' },
      { key: 'dev-2', id: 3, time: 12, payload: '{"temp":30.0001}' },
      { key: 'dev-2', id: 4, time: 13, payload: '{"temp":-1e-9}' },
      { key: 'dev-3', id: 5, time: 14, payload: { temp: 12.5 }, format: 'cbor', qos: 2 },
    ];
    const frame = frameOf(events);
    const out = readOutputs(rule.process(frame, 99));
    expect(out.map((r) => [r.output, r.key, r.id, r.time, r.format, r.qos])).toEqual([
      ['default', 'dev-1', 1n, 10, 1, 0],
      ['default', 'dev-1', 2n, 11, 1, 0],
      ['default', 'dev-3', 5n, 14, 2, 0],
    ]);
    expect(out[2]!.payload).toEqual(payloadBytes(events[4]!));
    expect(host.metrics).toEqual([{ name: 'dropped', value: 2 }]);
  });

  it('reports drops once per batch and not at all when nothing was dropped', async () => {
    const { rule, host } = startRule(await loadRule('threshold'));
    run(rule, [{ key: 'a', id: 1, payload: { temp: 20 } }]);
    expect(host.metrics).toEqual([]);
    run(rule, [
      { key: 'a', id: 2, payload: { temp: 200 } },
      { key: 'a', id: 3, payload: { temp: -200 } },
      { key: 'a', id: 4, payload: { temp: 126 } },
    ]);
    expect(host.metrics).toEqual([{ name: 'dropped', value: 3 }]);
  });

  it('sends malformed payloads and missing or non-number fields to `dead` and keeps going', async () => {
    const { rule } = startRule(await loadRule('threshold'), { field: 'm.temp' });
    const out = run(rule, [
      { key: 'a', id: 1, payload: 'not json' },
      { key: 'a', id: 2, payload: { m: { hum: 1 } } },
      { key: 'a', id: 3, payload: { m: { temp: '21' } } },
      { key: 'a', id: 4, payload: { m: 5 } },
      { key: 'a', id: 5, payload: new Uint8Array([0xa1, 0x61, 0x6d]), format: 'cbor' },
      { key: 'a', id: 6, payload: { m: { temp: null } }, format: 'cbor' },
      { key: 'a', id: 7, payload: { m: { temp: 21 } }, format: 'cbor' },
      { key: 'a', id: 8, payload: '{"m":{"temp":22}}' },
    ]);
    expect(out.map((r) => [r.output, r.id, r.output === 'dead' ? r.text : ''])).toEqual([
      ['dead', 1n, 'payload is not valid JSON'],
      ['dead', 2n, 'field "m.temp" is missing'],
      ['dead', 3n, 'field "m.temp" is not a number'],
      ['dead', 4n, 'field "m.temp" is not a number'],
      ['dead', 5n, 'payload is not well-formed CBOR'],
      ['dead', 6n, 'field "m.temp" is not a number'],
      ['default', 7n, ''],
      ['default', 8n, ''],
    ]);
  });

  it('matches a JS reference on random batches of valid, out-of-range and broken readings', async () => {
    const { rule, host } = startRule(await loadRule('threshold'), { min: -40, max: 125 });
    const rng = prng(3);
    let id = 1;
    let dropped = 0;
    for (let batch = 0; batch < 40; batch++) {
      const size = 1 + Math.floor(rng() * 500);
      const events = readings(rng, size, id, () => 1_700_000_000_000 + id, {
        devices: 50,
        broken: 0.1,
        outOfRange: 0.1,
      });
      id += size;
      const want = reference(events, 'temp', -40, 125);
      dropped += want.dropped;
      expect(actual(run(rule, events), false)).toEqual(expected(want.out, false));
    }
    expect(host.metrics.reduce((sum, m) => sum + m.value, 0)).toBe(dropped);
    expect(dropped).toBeGreaterThan(100);
  });

  it('refuses min above max and wrong types, naming the key', async () => {
    const mod = await loadRule('threshold');
    expect(() => startRule(mod, { min: 5, max: 1 })).toThrow(
      /config\.min \(5\.0\) is greater than config\.max \(1\.0\)/,
    );
    expect(() => startRule(mod, { max: 'high' })).toThrow(
      /config\.max: got the string "high", expected a number/,
    );
    expect(() => startRule(mod, { field: 3 })).toThrow(
      /config\.field: got the number 3, expected a string/,
    );
  });
});
