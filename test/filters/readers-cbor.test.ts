import { Encoder, FLOAT32_OPTIONS, decode, encode } from 'cbor-x';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FIELD_MALFORMED,
  FIELD_MISSING,
  FIELD_OK,
  FIELD_WRONG_TYPE,
  Readers,
  compileReaders,
} from './readers-module.js';
import { bitsOf, prng, randomDouble } from './fixtures/numbers.js';
import { type Json, objectPaths, randomValue } from './fixtures/payloads.js';

let readers: Readers;

beforeAll(async () => {
  readers = await Readers.create(await compileReaders());
});

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
/** A map with one text key `t` holding the item given in hex. */
const withT = (item: string) => hex(`a1 61 74 ${item}`);

describe('CBOR field reader', () => {
  it('reads the fields of a cbor-x encoded sensor reading', () => {
    const payload = encode({
      id: 123,
      device: 'dev-17',
      ts: 1700000000123,
      temp: 21.5,
      hum: 40.1,
      ok: true,
    });
    expect(readers.cborF64(payload, 'temp')).toEqual([21.5, FIELD_OK]);
    expect(readers.cborF64(payload, 'hum')).toEqual([40.1, FIELD_OK]);
    expect(readers.cborI64(payload, 'ts')).toEqual([1700000000123n, FIELD_OK]); // a float64 in CBOR
    expect(readers.cborI64(payload, 'id')).toEqual([123n, FIELD_OK]);
    expect(readers.cborBool(payload, 'ok')).toEqual([true, FIELD_OK]);
    expect(readers.cborString(payload, 'device')[0]?.text).toBe('dev-17');
    expect(readers.cborStringEquals(payload, 'device', 'dev-17')).toBe(true);
    expect(readers.cborStringEquals(payload, 'device', 'dev-18')).toBe(false);
    expect(readers.cborValidate(payload)).toBe(true);
  });

  it('reads every integer width as f64 and i64, like cbor-x decodes them', () => {
    const values: Array<number | bigint> = [
      0,
      23,
      24,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      2 ** 32,
      2n ** 53n + 1n,
      2n ** 63n - 1n,
      2n ** 64n - 1n,
      -1,
      -24,
      -25,
      -256,
      -257,
      -65536,
      -65537,
      -(2 ** 32),
      -(2 ** 32) - 1,
      -(2n ** 63n),
    ];
    for (const v of values) {
      const payload = encode({ t: v });
      const decoded = (decode(payload) as { t: number | bigint }).t;
      const [f, fs] = readers.cborF64(payload, 't');
      expect({ v, fs, bits: bitsOf(f) }).toEqual({
        v,
        fs: FIELD_OK,
        bits: bitsOf(Number(decoded)),
      });
      const [i, is] = readers.cborI64(payload, 't');
      const big = BigInt(decoded);
      if (big >= -(2n ** 63n) && big < 2n ** 63n)
        expect({ v, i, is }).toEqual({ v, i: big, is: FIELD_OK });
      else expect({ v, is }).toEqual({ v, is: FIELD_WRONG_TYPE });
    }
    expect(readers.cborI64(hex('a1 61 74 3b ffffffffffffffff'), 't')[1]).toBe(FIELD_WRONG_TYPE);
    // cbor-x writes -(2^64) and beyond as bignums (tags 2 and 3 around bytes): not numbers here.
    expect(readers.cborF64(encode({ t: -(2n ** 64n) }), 't')[1]).toBe(FIELD_WRONG_TYPE);
    expect(readers.cborI64(encode({ t: 2n ** 64n }), 't')[1]).toBe(FIELD_WRONG_TYPE);
    expect(readers.cborF64(hex('a1 61 74 3b ffffffffffffffff'), 't')[0]).toBe(-(2 ** 64));
  });

  it('reads half, single and double floats exactly', () => {
    const halves: Array<[string, number]> = [
      ['3c00', 1],
      ['7bff', 65504],
      ['0001', 2 ** -24],
      ['03ff', 1023 * 2 ** -24],
      ['0400', 2 ** -14],
      ['8000', -0],
      ['c400', -4],
      ['7c00', Infinity],
      ['fc00', -Infinity],
      ['3555', 0.333251953125],
    ];
    for (const [bits, want] of halves) {
      const [v, s] = readers.cborF64(withT(`f9 ${bits}`), 't');
      expect({ bits, s, v: bitsOf(v) }).toEqual({ bits, s: FIELD_OK, v: bitsOf(want) });
    }
    expect(Number.isNaN(readers.cborF64(withT('f9 7e00'), 't')[0])).toBe(true);
    const f32 = new Encoder({ useFloat32: FLOAT32_OPTIONS.ALWAYS, useRecords: false });
    const rand = prng(5);
    for (let i = 0; i < 2000; i++) {
      const v = i % 2 === 0 ? Math.fround(randomDouble(rand)) : randomDouble(rand);
      for (const payload of [f32.encode({ t: v }), encode({ t: v })]) {
        const want = (decode(payload) as { t: number }).t;
        const [got, s] = readers.cborF64(payload, 't');
        expect(s).toBe(FIELD_OK);
        expect(bitsOf(got)).toBe(bitsOf(want));
      }
    }
    expect(readers.cborI64(withT('fa 4b000000'), 't')).toEqual([8388608n, FIELD_OK]);
    expect(readers.cborI64(withT('f9 3e00'), 't')).toEqual([0n, FIELD_WRONG_TYPE]); // 1.5
  });

  it('walks nested maps, skips arrays and tags, and ignores keys that are not text', () => {
    const payload = encode({
      a: { list: [1, { b: 2 }, [3]], b: { c: -7.25 } },
      when: new Date(5000),
      c: 1,
    });
    expect(readers.cborF64(payload, 'a.b.c')).toEqual([-7.25, FIELD_OK]);
    expect(readers.cborF64(payload, 'when')).toEqual([5, FIELD_OK]); // tag 1 around seconds
    expect(readers.cborF64(payload, 'a.list.b')[1]).toBe(FIELD_WRONG_TYPE);
    expect(readers.cborF64(payload, 'a.x')[1]).toBe(FIELD_MISSING);
    expect(readers.cborF64(payload, 'c.d')[1]).toBe(FIELD_WRONG_TYPE);
    // {1: 2, h'74': 3, "t": 4} — an int key and a byte-string key never match.
    expect(readers.cborF64(hex('a3 01 02 41 74 03 61 74 04'), 't')).toEqual([4, FIELD_OK]);
    expect(readers.cborF64(hex('a1 41 74 03'), 't')[1]).toBe(FIELD_MISSING);
    // Tags on the map along the path and stacked on the value.
    expect(readers.cborF64(hex('d9 d9f7 a1 61 61 c6 a1 61 74 c1 c2 05'), 'a.t')).toEqual([
      5,
      FIELD_OK,
    ]);
  });

  it('takes the last of duplicate keys', () => {
    expect(readers.cborF64(hex('a2 61 74 01 61 74 02'), 't')).toEqual([2, FIELD_OK]);
    expect(readers.cborF64(hex('a2 61 74 01 61 74 60'), 't')[1]).toBe(FIELD_WRONG_TYPE);
    expect(readers.cborF64(hex('a2 61 61 a1 61 62 01 61 61 a0'), 'a.b')[1]).toBe(FIELD_MISSING);
    expect(readers.cborF64(hex('a2 61 61 01 61 61 a1 61 62 03'), 'a.b')).toEqual([3, FIELD_OK]);
  });

  it('supports indefinite-length maps, arrays and strings', () => {
    // {_ "t": 1, "a": [_ 1, 2], "s": (_ "ab", "c"), (_ "k", "ey"): 9 }
    const payload = hex(
      'bf 61 74 01 61 61 9f 01 02 ff 61 73 7f 62 61 62 61 63 ff 7f 61 6b 62 65 79 ff 09 ff',
    );
    expect(readers.cborValidate(payload)).toBe(true);
    expect(readers.cborF64(payload, 't')).toEqual([1, FIELD_OK]);
    expect(readers.cborF64(payload, 'key')).toEqual([9, FIELD_OK]);
    expect(readers.cborF64(payload, 'ke')[1]).toBe(FIELD_MISSING);
    expect(readers.cborF64(payload, 'keys')[1]).toBe(FIELD_MISSING);
    expect(readers.cborString(payload, 's')[1]).toBe(FIELD_WRONG_TYPE); // chunked: not contiguous
    expect(readers.cborF64(hex('bf 61 61 bf 61 62 02 ff ff'), 'a.b')).toEqual([2, FIELD_OK]);
  });

  it('reports malformed items, huge lengths and trailing bytes as malformed', () => {
    const broken = [
      '',
      'a1 61 74',
      'a1 61 74 19 01',
      'a2 61 74 01',
      'a1 61 74 01 00',
      'a1 61 74 1c',
      'a1 61 74 ff',
      'a1 61 74 5a fffffff0 00',
      'a1 61 74 7b ffffffffffffffff',
      'a1 61 74 9a fffffff0',
      'a1 61 74 9b ffffffffffffffff 01',
      'bb ffffffffffffffff 61 74 01',
      'ba fffffff0 61 74 01',
      'a1 7a fffffff0 74 01',
      'a1 61 74 f8 10',
      'a1 61 74 3f',
      'a1 61 74 df 01',
      'a1 61 74 7f 41 61 ff',
      'a1 61 74 7f 7f ff ff',
      'a1 61 74 5f 61 61 ff',
      'bf 61 74 01',
      'bf 61 74 ff',
      '9f 01 02',
    ];
    for (const b of broken) {
      expect({ b, status: readers.cborF64(hex(b), 't')[1] }).toEqual({
        b,
        status: FIELD_MALFORMED,
      });
      expect(readers.cborValidate(hex(b)), b).toBe(false);
    }
  });

  it('bounds the nesting depth at 128 levels', () => {
    expect(readers.cborValidate(hex('81'.repeat(127) + 'a0'))).toBe(true);
    expect(readers.cborValidate(hex('81'.repeat(128) + 'a0'))).toBe(false);
    expect(readers.cborValidate(hex('9f'.repeat(100_000)))).toBe(false);
    expect(readers.cborValidate(hex('c1'.repeat(100_000) + '01'))).toBe(true); // tags are not nesting
  });

  it('reports a payload range that wraps around or leaves memory as malformed', () => {
    const path = readers.path('t');
    const size = readers.exports.memory.buffer.byteLength;
    readers.exports.readCborF64(0xfffffff0, 0x20, path);
    expect(readers.exports.status()).toBe(FIELD_MALFORMED);
    readers.exports.readCborF64(size - 2, 4, path);
    expect(readers.exports.status()).toBe(FIELD_MALFORMED);
    expect(readers.exports.cborEquals(0xfffffff0_00000020n, readers.text('x'))).toBe(0);
  });

  it('agrees with cbor-x on every addressable field of 5000 generated payloads', () => {
    const rand = prng(77);
    const bad: string[] = [];
    for (let i = 0; i < 5000 && bad.length < 5; i++) {
      const root: { [k: string]: Json } = {};
      for (let k = 0; k < 1 + Math.floor(rand() * 6); k++)
        root[`k${Math.floor(rand() * 8)}`] = randomValue(rand, 3);
      const payload = encode(root);
      const decoded = decode(payload) as Json;
      for (const [path, want] of objectPaths(decoded)) {
        if (typeof want === 'number') {
          const [v, s] = readers.cborF64(payload, path);
          if (s !== FIELD_OK || bitsOf(v) !== bitsOf(want))
            bad.push(`${path}: ${v} (${s}) != ${want}`);
        } else if (typeof want === 'string') {
          const [located, s] = readers.cborString(payload, path);
          if (s !== FIELD_OK || located?.text !== want) bad.push(`${path}: string ${s}`);
        } else if (typeof want === 'boolean') {
          const [v, s] = readers.cborBool(payload, path);
          if (s !== FIELD_OK || v !== want) bad.push(`${path}: bool ${v} (${s})`);
        } else if (readers.cborF64(payload, path)[1] !== FIELD_WRONG_TYPE) {
          bad.push(`${path}: non-number not WRONG_TYPE`);
        }
      }
      if (!readers.cborValidate(payload))
        bad.push(`invalid ${Buffer.from(payload).toString('hex')}`);
    }
    expect(bad).toEqual([]);
  });
});
