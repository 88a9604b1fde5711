import { encode } from 'cbor-x';
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
import { type Json, objectPaths, prng, randomPayload, randomValue } from './fixtures/payloads.js';

const CASES = 50_000;
const JSON_BYTES = [...'{}[]",:\\0123456789.-+eEtfnul ']
  .map((c) => c.charCodeAt(0))
  .concat([0, 0x1f, 0xff, 0xc3]);
const CBOR_BYTES = [
  0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x3f, 0x5a, 0x5b, 0x5f, 0x61, 0x7a, 0x7b, 0x7f,
  0x9a, 0x9b, 0x9f, 0xa1, 0xba, 0xbb, 0xbf, 0xc1, 0xd9, 0xdf, 0xf4, 0xf8, 0xf9, 0xfa, 0xfb, 0xff,
];

let readers: Readers;

beforeAll(async () => {
  readers = await Readers.create(await compileReaders());
});

/** Applies 1–3 random mutations: truncation, byte changes, insertions, deletions, repeats. */
function mutate(seed: Uint8Array, rand: () => number, alphabet: readonly number[]): Uint8Array {
  let b = Array.from(seed);
  const pick = () => alphabet[Math.floor(rand() * alphabet.length)] as number;
  const at = () => Math.floor(rand() * (b.length + 1));
  for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
    const r = rand();
    if (r < 0.25) b = b.slice(0, at());
    else if (r < 0.4 && b.length > 0) {
      const i = Math.floor(rand() * b.length);
      b[i] = (b[i] as number) ^ (1 << Math.floor(rand() * 8));
    } else if (r < 0.6 && b.length > 0) b[Math.floor(rand() * b.length)] = pick();
    else if (r < 0.75) b.splice(at(), 0, pick(), ...(rand() < 0.3 ? [0xff, 0xff, 0xff, 0xf0] : []));
    else if (r < 0.88) b.splice(at(), 1 + Math.floor(rand() * 8));
    else {
      const from = at();
      b.splice(at(), 0, ...b.slice(from, from + 1 + Math.floor(rand() * 16)));
    }
  }
  return Uint8Array.from(b);
}

/** What JSON.parse implies for reading `path` as `kind`: a status, and the value when OK. */
function expectedRead(root: Json, path: string, kind: 'f64' | 'bool' | 'string'): [number, Json?] {
  let v: Json = root;
  for (const seg of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return [FIELD_WRONG_TYPE];
    if (!Object.prototype.hasOwnProperty.call(v, seg)) return [FIELD_MISSING];
    v = v[seg] as Json;
  }
  const type = kind === 'f64' ? 'number' : kind === 'bool' ? 'boolean' : 'string';
  return typeof v === type ? [FIELD_OK, v] : [FIELD_WRONG_TYPE];
}

function parseOrUndefined(bytes: Uint8Array): Json | undefined {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Json;
  } catch {
    return undefined;
  }
}

describe('field readers on hostile payloads', () => {
  it(`never trap on ${CASES} mutated JSON payloads flush against the end of memory, and agree with JSON.parse`, () => {
    const rand = prng(31337);
    const seeds: Array<{ bytes: Uint8Array; paths: string[] }> = [];
    const encoder = new TextEncoder();
    for (let i = 0; i < 300; i++) {
      const { text, parsed } = randomPayload(rand);
      const paths = objectPaths(parsed)
        .map(([p]) => p)
        .slice(0, 4);
      seeds.push({ bytes: encoder.encode(text), paths: [...paths, 'temp', 'a.b'] });
    }
    // Register every path first: registering allocates, which could grow memory past the payloads.
    for (const seed of seeds) for (const path of seed.paths) readers.path(path);
    const bad: string[] = [];
    let valid = 0;
    for (let i = 0; i < CASES && bad.length < 5; i++) {
      const seed = seeds[i % seeds.length] as (typeof seeds)[number];
      const bytes = mutate(seed.bytes, rand, JSON_BYTES);
      const [ptr, len] = readers.place(bytes);
      expect(ptr + len).toBe(readers.exports.memory.buffer.byteLength);
      const parsed = parseOrUndefined(bytes);
      const ok = readers.exports.validateJson(ptr, len) !== 0;
      const deep = bytes.filter((c) => c === 0x5b || c === 0x7b).length > 128;
      if (!deep && ok !== (parsed !== undefined))
        bad.push(`validate ${ok}: ${new TextDecoder().decode(bytes)}`);
      if (ok) valid++;
      const path = seed.paths[i % seed.paths.length] as string;
      const id = readers.path(path);
      const reads: Array<[number, 'f64' | 'bool' | 'string', () => unknown]> = [
        [0, 'f64', () => readers.exports.readJsonF64(ptr, len, id)],
        [1, 'bool', () => readers.exports.readJsonBool(ptr, len, id)],
        [2, 'string', () => readers.exports.readJsonString(ptr, len, id)],
      ];
      for (const [, kind, read] of reads) {
        const got = read();
        const status = readers.exports.status();
        if (!ok) {
          if (status !== FIELD_MALFORMED) bad.push(`${kind} status ${status} on invalid payload`);
          continue;
        }
        if (deep || parsed === undefined) continue;
        const [want, value] = expectedRead(parsed, path, kind);
        if (status !== want) bad.push(`${kind} ${path}: status ${status}, want ${want}`);
        else if (
          want === FIELD_OK &&
          kind === 'f64' &&
          bitsOf(got as number) !== bitsOf(value as number)
        ) {
          bad.push(`${kind} ${path}: ${String(got)} != ${String(value)}`);
        } else if (want === FIELD_OK && kind === 'bool' && (got as number) !== (value ? 1 : 0)) {
          bad.push(`${kind} ${path}: ${String(got)} != ${String(value)}`);
        }
      }
    }
    expect(bad).toEqual([]);
    expect(valid).toBeGreaterThan(CASES / 20); // mutations keep some payloads valid
  });

  it(`never trap on ${CASES} mutated CBOR payloads flush against the end of memory`, () => {
    const rand = prng(4711);
    // Indefinite lengths: {_ "t": 1, "a": [_ 1, 2], "s": (_ "ab", "c"), (_ "k", "ey"): 9 }
    const indefinite =
      'bf 61 74 01 61 61 9f 01 02 ff 61 73 7f 62 61 62 61 63 ff 7f 61 6b 62 65 79 ff 09 ff';
    const seeds: Uint8Array[] = [
      Uint8Array.from(Buffer.from(indefinite.replace(/\s/g, ''), 'hex')),
    ];
    for (let i = 0; i < 300; i++) {
      const root: { [k: string]: Json } = { t: randomValue(rand, 0) };
      for (let k = 0; k < Math.floor(rand() * 5); k++) root[`k${k}`] = randomValue(rand, 3);
      seeds.push(encode(root));
    }
    const paths = ['t', 'k1', 'k0.k1', 'k2.t'].map((p) => readers.path(p));
    const bad: string[] = [];
    let valid = 0;
    for (let i = 0; i < CASES && bad.length < 5; i++) {
      const bytes = mutate(seeds[i % seeds.length] as Uint8Array, rand, CBOR_BYTES);
      const [ptr, len] = readers.place(bytes);
      expect(ptr + len).toBe(readers.exports.memory.buffer.byteLength);
      const ok = readers.exports.validateCbor(ptr, len) !== 0;
      if (ok) valid++;
      const id = paths[i % paths.length] as number;
      readers.exports.readCborF64(ptr, len, id);
      const f = readers.exports.status();
      readers.exports.readCborI64(ptr, len, id);
      const n = readers.exports.status();
      readers.exports.readCborBool(ptr, len, id);
      const b = readers.exports.status();
      readers.exports.readCborString(ptr, len, id);
      const s = readers.exports.status();
      for (const status of [f, n, b, s]) {
        if (!ok && status !== FIELD_MALFORMED)
          bad.push(`status ${status} on invalid ${Buffer.from(bytes).toString('hex')}`);
        if (ok && status === FIELD_MALFORMED)
          bad.push(`malformed on valid ${Buffer.from(bytes).toString('hex')}`);
      }
    }
    expect(bad).toEqual([]);
    expect(valid).toBeGreaterThan(CASES / 20);
  });
});
