import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FIELD_MALFORMED,
  FIELD_OK,
  FIELD_WRONG_TYPE,
  Readers,
  compileReaders,
} from './readers-module.js';
import {
  HARD_NUMBERS,
  INVALID_NUMBERS,
  bitsOf,
  generateNumbers,
  prng,
} from './fixtures/numbers.js';
import { POW10_MAX_EXP, POW10_MIN_EXP, pow10Entry } from './fixtures/pow10-table.js';

let readers: Readers;

beforeAll(async () => {
  readers = await Readers.create(await compileReaders());
});

/** `JSON.parse` of a number text, or undefined when it throws. */
function parse(text: string): number | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The first few texts whose jsonF64 result differs from JSON.parse's, with both results. */
function mismatches(texts: readonly string[]): string[] {
  const { values, statuses } = readers.jsonF64Many(texts);
  const bad: string[] = [];
  for (let i = 0; i < texts.length && bad.length < 10; i++) {
    const text = texts[i] as string;
    const want = parse(text);
    const status = statuses[i];
    const got = values[i] as number;
    if (want === undefined) {
      if (status !== FIELD_MALFORMED) bad.push(`${JSON.stringify(text)}: status ${status}`);
    } else if (status !== FIELD_OK || bitsOf(got) !== bitsOf(want)) {
      bad.push(`${text.slice(0, 80)}: got ${got} (status ${status}), JSON.parse ${want}`);
    }
  }
  return bad;
}

describe('jsonF64 on numbers', () => {
  it('equals JSON.parse bit for bit on a million numbers, hard cases included', () => {
    const texts = generateNumbers(1_000_000, 20240517);
    expect(texts.length).toBeGreaterThanOrEqual(1_000_000);
    expect(mismatches(texts)).toEqual([]);
  });

  it('has an exact fallback that alone equals JSON.parse on 40k numbers', () => {
    const texts = generateNumbers(40_000, 4242).filter((t) => t.trim() === t);
    const values = readers.numberTier(texts, 'exact');
    const bad: string[] = [];
    for (let i = 0; i < texts.length && bad.length < 10; i++) {
      const want = parse(texts[i] as string) as number;
      if (bitsOf(values[i] as number) !== bitsOf(want)) bad.push(`${texts[i]}: ${values[i]}`);
    }
    expect(bad).toEqual([]);
  });

  it('has an Eisel–Lemire tier that is right whenever it decides, and decides most numbers', () => {
    const texts = generateNumbers(100_000, 4243).filter((t) => t.trim() === t);
    const values = readers.numberTier(texts, 'eisel-lemire');
    const bad: string[] = [];
    let decided = 0;
    for (let i = 0; i < texts.length && bad.length < 10; i++) {
      const got = values[i] as number;
      if (Number.isNaN(got)) continue;
      decided++;
      const want = parse(texts[i] as string) as number;
      if (bitsOf(got) !== bitsOf(want)) bad.push(`${texts[i]}: ${got}`);
    }
    expect(bad).toEqual([]);
    // Undecided: subnormals, overflow, exact halfway points (about 16% of this mix).
    expect(decided / texts.length).toBeGreaterThan(0.75);
  });

  it('reads the known hard cases exactly', () => {
    expect(mismatches(HARD_NUMBERS)).toEqual([]);
  });

  it('reads -0 as negative zero', () => {
    const { values, statuses } = readers.jsonF64Many(['-0', '-0.0e5', '0']);
    expect([...statuses]).toEqual([FIELD_OK, FIELD_OK, FIELD_OK]);
    expect(Object.is(values[0], -0)).toBe(true);
    expect(Object.is(values[1], -0)).toBe(true);
    expect(Object.is(values[2], 0)).toBe(true);
  });

  it('reports invalid number forms (leading zeros, 1., .5, +1, NaN) as malformed', () => {
    const { values, statuses } = readers.jsonF64Many(INVALID_NUMBERS);
    for (let i = 0; i < INVALID_NUMBERS.length; i++) {
      expect(parse(INVALID_NUMBERS[i] as string)).toBeUndefined();
      expect({ text: INVALID_NUMBERS[i], status: statuses[i] }).toEqual({
        text: INVALID_NUMBERS[i],
        status: FIELD_MALFORMED,
      });
      expect(Number.isNaN(values[i])).toBe(true);
    }
  });

  it('is malformed exactly when JSON.parse throws, on 200k random texts of number characters', () => {
    const rand = prng(7);
    const alphabet = '0123456789.-+eE ';
    const texts: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      let s = '';
      const n = 1 + Math.floor(rand() * 9);
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      texts.push(s);
    }
    expect(mismatches(texts)).toEqual([]);
  });
});

describe('jsonI64 on numbers', () => {
  /** What jsonI64 promises: integer tokens exact within i64, others by their integral f64 value. */
  function expected(text: string): bigint | undefined {
    const v = parse(text);
    if (v === undefined) return undefined;
    if (/^\s*-?\d+\s*$/.test(text)) {
      const b = BigInt(text.trim());
      return b >= -(2n ** 63n) && b < 2n ** 63n ? b : undefined;
    }
    if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) return BigInt(v);
    return undefined;
  }

  it('reads integer tokens exactly over the whole i64 range, beyond 2^53 too', () => {
    const texts = [
      '0',
      '-0',
      '9007199254740993',
      '9223372036854775807',
      '-9223372036854775808',
      '1700000000123',
      '18446744073709551615',
      '9223372036854775808',
      '-9223372036854775809',
      '100000000000000000000',
      '0100',
    ];
    const { values, statuses } = readers.jsonI64Many(texts);
    expect([...values.slice(0, 6)]).toEqual([
      0n,
      0n,
      9007199254740993n,
      9223372036854775807n,
      -9223372036854775808n,
      1700000000123n,
    ]);
    expect([...statuses]).toEqual([
      ...Array<number>(6).fill(FIELD_OK),
      FIELD_WRONG_TYPE,
      FIELD_WRONG_TYPE,
      FIELD_WRONG_TYPE,
      FIELD_WRONG_TYPE,
      FIELD_MALFORMED,
    ]);
  });

  it('accepts integral numbers written with a fraction or an exponent and rejects the rest', () => {
    const texts = [
      '1.0',
      '1e3',
      '1.7e12',
      '-2.50e1',
      '1.5',
      '1e-1',
      '1e30',
      '9223372036854775807.0',
    ];
    const { values, statuses } = readers.jsonI64Many(texts);
    expect([...values.slice(0, 4)]).toEqual([1n, 1000n, 1700000000000n, -25n]);
    expect([...statuses]).toEqual([
      FIELD_OK,
      FIELD_OK,
      FIELD_OK,
      FIELD_OK,
      FIELD_WRONG_TYPE,
      FIELD_WRONG_TYPE,
      FIELD_WRONG_TYPE,
      FIELD_WRONG_TYPE, // its f64 value is 2^63, beyond i64
    ]);
  });

  it('matches the documented semantics on 100k generated numbers', () => {
    const texts = generateNumbers(100_000, 99);
    const { values, statuses } = readers.jsonI64Many(texts);
    const bad: string[] = [];
    for (let i = 0; i < texts.length && bad.length < 10; i++) {
      const text = texts[i] as string;
      const want = expected(text);
      const status = statuses[i];
      if (parse(text) === undefined) {
        if (status !== FIELD_MALFORMED) bad.push(`${text}: status ${status}`);
      } else if (want === undefined) {
        if (status !== FIELD_WRONG_TYPE) bad.push(`${text.slice(0, 60)}: status ${status}`);
      } else if (status !== FIELD_OK || values[i] !== want) {
        bad.push(`${text.slice(0, 60)}: got ${values[i]} (status ${status}), want ${want}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('power-of-ten table', () => {
  it('holds the rounded-down 128-bit mantissa of every power of ten it covers', async () => {
    const source = await readFile(
      new URL('../../filters/sdk/pow10-table.ts', import.meta.url),
      'utf8',
    );
    const rows = [...source.matchAll(/^\s*(0x[0-9A-F]{16}), (0x[0-9A-F]{16}), \/\/ 1e(-?\d+)$/gm)];
    expect(rows.length).toBe(POW10_MAX_EXP - POW10_MIN_EXP + 1);
    for (const [, hi, lo, e] of rows) {
      const [wantHi, wantLo] = pow10Entry(Number(e));
      expect([BigInt(hi as string), BigInt(lo as string)]).toEqual([wantHi, wantLo]);
    }
  });
});
