import { encode } from 'cbor-x';
import { beforeAll, describe, expect, it } from 'vitest';
import { Readers, compileReaders } from './readers-module.js';

let readers: Readers;

beforeAll(async () => {
  readers = await Readers.create(await compileReaders());
});

const READING = '{"id":123,"device":"dev-17","ts":1700000000123,"temp":21.5,"hum":40.1}';
const LOOPS = 100_000;

/** Best of `rounds` timings of `fn` in ns per loop iteration (best-of filters a noisy machine). */
function nsPerLoop(fn: () => unknown, rounds = 10): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return (best * 1e6) / LOOPS;
}

describe('field reader cost (measured and printed, not asserted)', () => {
  it('reports ns per field read of a ~70-byte reading in JSON and in CBOR', () => {
    const x = readers.exports;
    const cbor = encode(JSON.parse(READING));
    const ids = Object.fromEntries(
      ['id', 'device', 'ts', 'temp', 'hum'].map((f) => [f, readers.path(f)]),
    );
    const rows: string[] = [];
    // Warm-up calls first: V8 starts new Wasm code in Liftoff and swaps in optimized code for
    // later calls.
    const [jp, jl] = readers.place(READING);
    for (let i = 0; i < 30; i++) {
      x.benchJsonF64(jp, jl, ids.temp as number, 20_000);
      x.benchJsonI64(jp, jl, ids.ts as number, 20_000);
      x.benchJsonString(jp, jl, ids.device as number, 20_000);
    }
    for (const f of ['temp', 'hum', 'id']) {
      const id = ids[f] as number;
      expect(x.benchJsonF64(jp, jl, id, 10)).toBeCloseTo(
        (JSON.parse(READING) as Record<string, number>)[f]! * 10,
      );
      rows.push(
        `json  f64    ${f.padEnd(6)} ${nsPerLoop(() => x.benchJsonF64(jp, jl, id, LOOPS)).toFixed(1)} ns`,
      );
    }
    expect(x.benchJsonI64(jp, jl, ids.ts as number, 2)).toBe(3400000000246n);
    rows.push(
      `json  i64    ts     ${nsPerLoop(() => x.benchJsonI64(jp, jl, ids.ts as number, LOOPS)).toFixed(1)} ns`,
    );
    expect(x.benchJsonString(jp, jl, ids.device as number, 2)).toBe(12n);
    rows.push(
      `json  string device ${nsPerLoop(() => x.benchJsonString(jp, jl, ids.device as number, LOOPS)).toFixed(1)} ns`,
    );
    const [cp, cl] = readers.place(cbor);
    for (let i = 0; i < 30; i++) {
      x.benchCborF64(cp, cl, ids.temp as number, 20_000);
      x.benchCborI64(cp, cl, ids.ts as number, 20_000);
    }
    for (const f of ['temp', 'hum', 'id']) {
      const id = ids[f] as number;
      expect(x.benchCborF64(cp, cl, id, 10)).toBeCloseTo(
        (JSON.parse(READING) as Record<string, number>)[f]! * 10,
      );
      rows.push(
        `cbor  f64    ${f.padEnd(6)} ${nsPerLoop(() => x.benchCborF64(cp, cl, id, LOOPS)).toFixed(1)} ns`,
      );
    }
    rows.push(
      `cbor  i64    ts     ${nsPerLoop(() => x.benchCborI64(cp, cl, ids.ts as number, LOOPS)).toFixed(1)} ns`,
    );
    console.log(`field reads (JSON ${jl} bytes, CBOR ${cl} bytes):\n${rows.join('\n')}`);
  });
});
