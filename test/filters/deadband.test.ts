import { describe, expect, it } from 'vitest';
import { RuleRestoreError } from '../../runtime/index.js';
import { actual, expected } from './compare.js';
import { prng, readNumber, readings } from './reference.js';
import type { Expected } from './reference.js';
import { loadRule, payloadBytes, run, startRule } from './rule-harness.js';
import type { InEvent } from './rule-harness.js';

const decoder = new TextDecoder();

/** deadband in plain JS. */
class DeadbandReference {
  readonly #last = new Map<string, number>();
  constructor(
    readonly field: string,
    readonly delta: number,
  ) {}

  process(events: readonly InEvent[]): Expected[] {
    const out: Expected[] = [];
    for (const e of events) {
      const v = readNumber(e, this.field);
      const base = { key: e.key, id: BigInt(e.id), time: e.time ?? 0 };
      if (typeof v !== 'number') {
        out.push({ ...base, output: 'dead', text: v.reason });
        continue;
      }
      const last = this.#last.get(e.key);
      if (last === undefined || Math.abs(v - last) > this.delta) {
        this.#last.set(e.key, v);
        out.push({ ...base, output: 'default', text: decoder.decode(payloadBytes(e)) });
      }
    }
    return out;
  }
}

const reading = (key: string, id: number, temp: number): InEvent => ({
  key,
  id,
  payload: { temp },
});

describe('deadband', () => {
  it('forwards the first reading per device, then only moves of more than delta from the last forwarded', async () => {
    const { rule, host } = startRule(await loadRule('deadband'), { delta: 0.5 });
    const out = run(rule, [
      reading('a', 1, 20),
      reading('b', 2, 5),
      reading('a', 3, 20.5),
      reading('a', 4, 20.4),
      reading('a', 5, 20.6),
      reading('a', 6, 21),
      reading('b', 7, 4.4),
      reading('a', 8, 19.9),
    ]);
    expect(out.map((r) => [r.key, r.id])).toEqual([
      ['a', 1n],
      ['b', 2n],
      ['a', 5n],
      ['b', 7n],
      ['a', 8n],
    ]);
    expect(host.metrics).toEqual([{ name: 'suppressed', value: 3 }]);
  });

  it('dead-letters broken readings without touching the device state', async () => {
    const { rule } = startRule(await loadRule('deadband'), { delta: 1 });
    const out = run(rule, [
      reading('a', 1, 10),
      { key: 'a', id: 2, payload: '{"temp":}' },
      { key: 'a', id: 3, payload: { temp: 'x' }, format: 'cbor' },
      reading('a', 4, 10.5),
      reading('a', 5, 11.5),
    ]);
    expect(out.map((r) => [r.output, r.id])).toEqual([
      ['default', 1n],
      ['dead', 2n],
      ['dead', 3n],
      ['default', 5n],
    ]);
  });

  it('matches a JS reference and keeps its state across snapshot/restore into a new instance', async () => {
    const mod = await loadRule('deadband');
    const config = { field: 'temp', delta: 2.5 };
    const ref = new DeadbandReference('temp', 2.5);
    const rng = prng(11);
    let { rule } = startRule(mod, config);
    let id = 1;
    for (let batch = 0; batch < 60; batch++) {
      const size = 1 + Math.floor(rng() * 400);
      const events = readings(rng, size, id, () => id, { devices: 300, broken: 0.05 });
      id += size;
      expect(actual(run(rule, events), false)).toEqual(expected(ref.process(events), false));
      if (batch === 30) {
        const state = rule.snapshot();
        rule = startRule(mod, config).rule;
        rule.restore(state);
      }
    }
  });

  it('refuses a state that is not its own and keeps the one it has', async () => {
    const mod = await loadRule('deadband');
    const { rule } = startRule(mod, { delta: 1 });
    run(rule, [reading('a', 1, 10)]);
    const windows = startRule(await loadRule('window-stats')).rule.snapshot();
    expect(() => rule.restore(windows)).toThrow(RuleRestoreError);
    expect(() => rule.restore(windows)).toThrow(/does not hold deadband values/);
    expect(run(rule, [reading('a', 2, 10.5), reading('a', 3, 11.5)]).map((r) => r.id)).toEqual([
      3n,
    ]);
  });
});
