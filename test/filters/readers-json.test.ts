import { beforeAll, describe, expect, it } from 'vitest';
import {
  FIELD_MALFORMED,
  FIELD_MISSING,
  FIELD_OK,
  FIELD_WRONG_TYPE,
  Readers,
  compileReaders,
} from './readers-module.js';
import { bitsOf } from './fixtures/numbers.js';
import { type Json, objectPaths, prng, randomPayload } from './fixtures/payloads.js';

let readers: Readers;

beforeAll(async () => {
  readers = await Readers.create(await compileReaders());
});

const READING = '{"id":123,"device":"dev-17","ts":1700000000123,"temp":21.5,"hum":40.1,"ok":true}';

describe('JSON field reader', () => {
  it('reads the fields of a sensor reading as f64, i64, string and bool', () => {
    expect(readers.jsonF64(READING, 'temp')).toEqual([21.5, FIELD_OK]);
    expect(readers.jsonF64(READING, 'hum')).toEqual([40.1, FIELD_OK]);
    expect(readers.jsonI64(READING, 'ts')).toEqual([1700000000123n, FIELD_OK]);
    expect(readers.jsonI64(READING, 'id')).toEqual([123n, FIELD_OK]);
    expect(readers.jsonBool(READING, 'ok')).toEqual([true, FIELD_OK]);
    const [device, status] = readers.jsonString(READING, 'device');
    expect(status).toBe(FIELD_OK);
    expect(device?.text).toBe('dev-17');
    expect(device?.ptr).toBe(readers.areaEnd - READING.length + READING.indexOf('dev-17'));
  });

  it('walks nested paths through objects', () => {
    const payload = '{"a":{"x":1,"b":{"c":42.5,"d":[1,{"c":0}]},"y":[]},"c":7}';
    expect(readers.jsonF64(payload, 'a.b.c')).toEqual([42.5, FIELD_OK]);
    expect(readers.jsonF64(payload, 'c')).toEqual([7, FIELD_OK]);
    expect(readers.jsonF64(payload, 'a.x')).toEqual([1, FIELD_OK]);
    expect(readers.jsonF64(payload, 'a.b.e')).toEqual([NaN, FIELD_MISSING]);
    expect(readers.jsonF64(payload, 'a.z.c')).toEqual([NaN, FIELD_MISSING]);
  });

  it('reports a path through an array or a scalar as the wrong type (no array indexes)', () => {
    const payload = '{"arr":[{"temp":1}],"n":5,"s":"x","z":null}';
    expect(readers.jsonF64(payload, 'arr.temp')[1]).toBe(FIELD_WRONG_TYPE);
    expect(readers.jsonF64(payload, 'arr.0')[1]).toBe(FIELD_WRONG_TYPE);
    expect(readers.jsonF64(payload, 'n.x')[1]).toBe(FIELD_WRONG_TYPE);
    expect(readers.jsonF64(payload, 'z.x')[1]).toBe(FIELD_WRONG_TYPE);
    expect(readers.jsonF64('[1,2]', 'temp')[1]).toBe(FIELD_WRONG_TYPE);
    expect(readers.jsonF64('"temp"', 'temp')[1]).toBe(FIELD_WRONG_TYPE);
  });

  it('skips arrays and nested containers while scanning for a key', () => {
    const payload = '{"arr":[1,[2,{"temp":5}],{"temp":6},"}",{}],"o":{"temp":8},"temp":7}';
    expect(readers.jsonF64(payload, 'temp')).toEqual([7, FIELD_OK]);
    expect(readers.jsonF64(payload, 'o.temp')).toEqual([8, FIELD_OK]);
  });

  it('reports missing fields and values of the wrong type', () => {
    expect(readers.jsonF64(READING, 'pressure')).toEqual([NaN, FIELD_MISSING]);
    expect(readers.jsonF64('{}', 'temp')).toEqual([NaN, FIELD_MISSING]);
    expect(readers.jsonF64(READING, 'device')).toEqual([NaN, FIELD_WRONG_TYPE]);
    expect(readers.jsonI64(READING, 'device')).toEqual([0n, FIELD_WRONG_TYPE]);
    expect(readers.jsonI64(READING, 'temp')).toEqual([0n, FIELD_WRONG_TYPE]);
    expect(readers.jsonBool(READING, 'id')).toEqual([false, FIELD_WRONG_TYPE]);
    expect(readers.jsonString(READING, 'ts')).toEqual([null, FIELD_WRONG_TYPE]);
    expect(readers.jsonF64('{"t":null}', 't')).toEqual([NaN, FIELD_WRONG_TYPE]);
    expect(readers.jsonBool('{"t":null}', 't')).toEqual([false, FIELD_WRONG_TYPE]);
    expect(readers.jsonF64('{"t":{}}', 't')).toEqual([NaN, FIELD_WRONG_TYPE]);
    expect(readers.jsonF64('{"t":[1]}', 't')).toEqual([NaN, FIELD_WRONG_TYPE]);
    expect(readers.jsonBool('{"t":false}', 't')).toEqual([false, FIELD_OK]);
  });

  it('takes the last of duplicate keys, as JSON.parse does, at every level of the path', () => {
    expect(readers.jsonF64('{"t":1,"t":2}', 't')).toEqual([2, FIELD_OK]);
    expect(readers.jsonF64('{"t":1,"u":0,"t":"x"}', 't')).toEqual([NaN, FIELD_WRONG_TYPE]);
    expect(readers.jsonF64('{"t":"x","t":3}', 't')).toEqual([3, FIELD_OK]);
    expect(readers.jsonF64('{"a":{"b":1},"a":{"c":2}}', 'a.b')).toEqual([NaN, FIELD_MISSING]);
    expect(readers.jsonF64('{"a":{"b":1},"a":5}', 'a.b')).toEqual([NaN, FIELD_WRONG_TYPE]);
    expect(readers.jsonF64('{"a":5,"a":{"b":1}}', 'a.b')).toEqual([1, FIELD_OK]);
    expect(readers.jsonF64('{"a":{"b":1,"b":4},"x":{"b":9}}', 'a.b')).toEqual([4, FIELD_OK]);
    expect(readers.jsonF64('{"t":1,"\\u0074":2}', 't')).toEqual([2, FIELD_OK]);
  });

  it('matches keys written with escapes after unescaping them', () => {
    expect(readers.jsonF64('{"\\u0074emp":1}', 'temp')).toEqual([1, FIELD_OK]);
    expect(readers.jsonF64('{"caf\\u00e9":2}', 'café')).toEqual([2, FIELD_OK]);
    expect(readers.jsonF64('{"café":3}', 'caf\u00e9')).toEqual([3, FIELD_OK]);
    expect(readers.jsonF64('{"\\ud83d\\ude00":4}', '😀')).toEqual([4, FIELD_OK]);
    expect(readers.jsonF64('{"\\uD83D\\uDE00":4}', '😀')).toEqual([4, FIELD_OK]);
    expect(readers.jsonF64('{"a\\"b\\\\c\\/d\\n":5}', 'a"b\\c/d\n')).toEqual([5, FIELD_OK]);
    expect(readers.jsonF64('{"\\ud800x":6}', '\ud800x')).toEqual([6, FIELD_OK]);
    expect(readers.jsonF64('{"te\\u006dp":1}', 'tem')).toEqual([NaN, FIELD_MISSING]);
    expect(readers.jsonF64('{"\\u0074":1}', 'temp')).toEqual([NaN, FIELD_MISSING]);
    expect(readers.jsonF64('{"":7}', '.')).toEqual([NaN, FIELD_WRONG_TYPE]);
    expect(readers.jsonF64('{"":{"":8}}', '.')).toEqual([8, FIELD_OK]);
  });

  it('locates strings as raw bytes inside the payload and compares them after unescaping', () => {
    const payload = '{"s":"caf\\u00e9 \\"x\\"","t":"dev-17"}';
    const [s] = readers.jsonString(payload, 's');
    expect(s?.text).toBe('caf\\u00e9 \\"x\\"');
    expect(readers.jsonStringEquals(payload, 's', 'café "x"')).toBe(true);
    expect(readers.jsonStringEquals(payload, 's', 'café "y"')).toBe(false);
    expect(readers.jsonStringEquals(payload, 't', 'dev-17')).toBe(true);
    expect(readers.jsonStringEquals(payload, 't', 'dev-1')).toBe(false);
    expect(readers.jsonStringEquals(payload, 't', 'dev-170')).toBe(false);
    expect(readers.jsonString('{"e":""}', 'e')[0]?.length).toBe(0);
  });

  it('reads the root value with the empty path', () => {
    expect(readers.jsonF64(' 12.5 ', '')).toEqual([12.5, FIELD_OK]);
    expect(readers.jsonString('"abc"', '')[0]?.text).toBe('abc');
    expect(readers.jsonF64('{"a":1}', '')).toEqual([NaN, FIELD_WRONG_TYPE]);
  });

  it('reports a payload JSON.parse rejects as malformed, even when the field comes first', () => {
    const broken = [
      '',
      ' ',
      '{"temp":1,}',
      '{"temp":1} x',
      '{"temp":1}}',
      '{"temp":1',
      '{"temp":1,"s":"a\u0001b"}',
      '{"temp":1,"s":"\\x"}',
      '{"temp":1,"s":"\\u12g4"}',
      "{'temp':1}",
      '{temp:1}',
      '{"temp":NaN}',
      '{"temp":01}',
      '{"temp":1.}',
      '{"temp":.5}',
      '{"temp":+1}',
      '{"temp":1,"x":[1,]}',
      '{"temp":1,"x":tru}',
      '{"temp":1,"x":nul}',
      '{"temp":1,"x":falsey}',
      '\ufeff{"temp":1}',
      '{"temp":1}\u00a0',
      '{"temp":1 /* c */}',
      '{"temp" 1}',
      '{"temp":1 "a":2}',
      '{"temp":1,"x":[1 2]}',
      '{"temp":1,"x":"unterminated}',
      '{"temp":1,"x":{"y":1}',
    ];
    for (const text of broken) {
      expect(() => JSON.parse(text), text).toThrow();
      expect({ text, status: readers.jsonF64(text, 'temp')[1] }).toEqual({
        text,
        status: FIELD_MALFORMED,
      });
      expect(readers.jsonValidate(text), text).toBe(false);
    }
  });

  it('bounds the nesting depth at 128 levels', () => {
    const nest = (n: number) => '{"a":'.repeat(n - 1) + '{"t":1}' + '}'.repeat(n - 1);
    expect(readers.jsonF64(nest(128), 'a'.concat('.a'.repeat(126), '.t'))).toEqual([1, FIELD_OK]);
    expect(readers.jsonF64(nest(129), 't')[1]).toBe(FIELD_MALFORMED);
    expect(readers.jsonValidate('['.repeat(128) + ']'.repeat(128))).toBe(true);
    expect(readers.jsonValidate('['.repeat(129) + ']'.repeat(129))).toBe(false);
    expect(readers.jsonValidate('['.repeat(100_000))).toBe(false);
  });

  it('reports a payload range that wraps around or leaves memory as malformed', () => {
    const path = readers.path('temp');
    const size = readers.exports.memory.buffer.byteLength;
    const read = (ptr: number, len: number) => {
      readers.exports.readJsonF64(ptr, len, path);
      return readers.exports.status();
    };
    expect(read(0xfffffff0, 0x20)).toBe(FIELD_MALFORMED);
    expect(read(size - 4, 8)).toBe(FIELD_MALFORMED);
    expect(read(size, 1)).toBe(FIELD_MALFORMED);
    expect(read(8, 0xffffffff)).toBe(FIELD_MALFORMED);
    expect(readers.exports.validateJson(0xffffffff, 2)).toBe(0);
    expect(readers.exports.jsonEquals(0xfffffff0_00000020n, readers.text('x'))).toBe(0);
  });

  it('agrees with JSON.parse on every addressable field of 3000 generated payloads', () => {
    const rand = prng(1234);
    const bad: string[] = [];
    let reads = 0;
    for (let i = 0; i < 3000 && bad.length < 5; i++) {
      const { text, parsed } = randomPayload(rand);
      if (!readers.jsonValidate(text)) bad.push(`invalid: ${text}`);
      for (const [path, want] of objectPaths(parsed)) {
        reads++;
        const problem = check(text, path, want);
        if (problem) bad.push(`${text} @ ${JSON.stringify(path)}: ${problem}`);
      }
      const [, missing] = readers.jsonF64(text, 'no such key');
      if (missing !== FIELD_MISSING) bad.push(`${text}: missing key gave ${missing}`);
    }
    expect(bad).toEqual([]);
    expect(reads).toBeGreaterThan(6_000);
  });
});

/** Reads `path` from `text` in the way its JSON.parse value calls for; returns a problem or ''. */
function check(text: string, path: string, want: Json): string {
  if (typeof want === 'number') {
    const [v, s] = readers.jsonF64(text, path);
    return s === FIELD_OK && bitsOf(v) === bitsOf(want) ? '' : `f64 ${v} (${s}) != ${want}`;
  }
  if (typeof want === 'string') {
    const [located, s] = readers.jsonString(text, path);
    if (s !== FIELD_OK || located === null) return `string status ${s}`;
    if (JSON.parse(`"${located.text}"`) !== want) return `raw ${located.text}`;
    return readers.jsonStringEquals(text, path, want) ? '' : 'jsonStringEquals false';
  }
  if (typeof want === 'boolean') {
    const [v, s] = readers.jsonBool(text, path);
    return s === FIELD_OK && v === want ? '' : `bool ${v} (${s})`;
  }
  const [, s] = readers.jsonF64(text, path);
  return s === FIELD_WRONG_TYPE ? '' : `non-number gave status ${s}`;
}
