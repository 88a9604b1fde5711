/**
 * Rule-state deltas: a delta taken from one state rebuilds the next exactly, whatever changed
 * (scattered bytes, growth, shrinking, unaligned views), is refused on any other base, and is
 * not made when it would be longer than allowed.
 */
import { describe, expect, it } from 'vitest';
import { applyDelta, encodeDelta } from '../../gateway/spool/state-delta.js';

/** A deterministic pseudo-random byte source. */
function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** `base` with `edits` single bytes changed at spread positions. */
function edited(base: Uint8Array, edits: number, seed: number): Uint8Array {
  const out = base.slice();
  const positions = bytes(edits * 4, seed);
  const view = new DataView(positions.buffer);
  for (let e = 0; e < edits; e++) {
    const at = view.getUint32(e * 4, true) % out.length;
    out[at] = (out[at] as number) ^ 0x5a;
  }
  return out;
}

function roundTrip(base: Uint8Array, next: Uint8Array): Uint8Array | undefined {
  const delta = encodeDelta(base, next, Infinity);
  expect(delta).toBeDefined();
  return applyDelta(base, delta as Uint8Array);
}

describe('rule-state deltas', () => {
  const base = bytes(10_003, 1);

  it('rebuild the next states exactly: scattered changes, growth, shrinking, none', () => {
    const cases: Array<[string, Uint8Array]> = [
      ['a few bytes changed', edited(base, 12, 2)],
      [
        'the first and the last byte changed',
        (() => {
          const b = base.slice();
          b[0] = (b[0] as number) ^ 1;
          b[b.length - 1] = (b[b.length - 1] as number) ^ 1;
          return b;
        })(),
      ],
      ['grown, with changes', new Uint8Array([...edited(base, 5, 3), ...bytes(777, 4)])],
      ['grown by less than a word', new Uint8Array([...base, 9, 9])],
      ['shrunk', edited(base, 5, 5).slice(0, 6001)],
      ['unchanged', base.slice()],
      ['empty', new Uint8Array(0)],
    ];
    for (const [name, next] of cases) {
      expect(roundTrip(base, next), name).toEqual(next);
    }
  });

  it('accept views at any byte offset', () => {
    const backing = new Uint8Array(base.length + 3);
    backing.set(base, 3);
    const view = backing.subarray(3);
    const next = edited(base, 7, 6);
    const nextBacking = new Uint8Array(next.length + 1);
    nextBacking.set(next, 1);
    const delta = encodeDelta(view, nextBacking.subarray(1), Infinity) as Uint8Array;
    expect(applyDelta(view, delta)).toEqual(next);
  });

  it('are small when little changed, and not made when longer than allowed', () => {
    const next = edited(base, 12, 7);
    const delta = encodeDelta(base, next, Infinity) as Uint8Array;
    expect(delta.length).toBeLessThan(12 * 20 + 8);
    expect(encodeDelta(base, bytes(base.length, 8), base.length / 2)).toBeUndefined();
  });

  it('are refused on any other base states', () => {
    const next = edited(base, 12, 9);
    const delta = encodeDelta(base, next, Infinity) as Uint8Array;
    expect(applyDelta(edited(base, 1, 10), delta)).toBeUndefined();
    expect(applyDelta(base.subarray(0, 5000), delta)).toBeUndefined();
    expect(applyDelta(base, delta.subarray(0, delta.length - 1))).toBeUndefined();
  });
});
