import { describe, expect, it } from 'vitest';
import { TEST_RULES_DIR, loadRule, run, startRule } from './rule-harness.js';
import type { InEvent, OutRecord } from './rule-harness.js';

/** A deterministic PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function f64Payload(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(1 + values.length * 8);
  const view = new DataView(bytes.buffer);
  bytes[0] = 0;
  values.forEach((v, i) => view.setFloat64(1 + i * 8, v, true));
  return bytes;
}

function i64Payload(values: readonly bigint[]): Uint8Array {
  const bytes = new Uint8Array(1 + values.length * 8);
  const view = new DataView(bytes.buffer);
  bytes[0] = 1;
  values.forEach((v, i) => view.setBigInt64(1 + i * 8, v, true));
  return bytes;
}

function textPayload(text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  const bytes = new Uint8Array(1 + utf8.length);
  bytes[0] = 2;
  bytes.set(utf8, 1);
  return bytes;
}

describe('JSON written by the SDK', () => {
  it('round-trips every double exactly through JSON.parse', async () => {
    const { rule } = startRule(await loadRule('json-echo', TEST_RULES_DIR));
    const next = prng(42);
    const bits = new DataView(new ArrayBuffer(8));
    const values: number[] = [
      0,
      -0,
      1,
      -1,
      0.1,
      0.2,
      0.30000000000000004,
      20.1,
      20.1 * 10,
      201 / 10 - 1e-15,
      1e21,
      1e-7,
      123456.789,
      5e-324,
      -5e-324,
      2.2250738585072014e-308,
      2.225073858507201e-308,
      1.7976931348623157e308,
      -1.7976931348623157e308,
      2 ** 53,
      2 ** 53 - 1,
      2 ** 53 + 2,
      -(2 ** 53),
      2 ** 63,
      2 ** 64,
      1e15 + 0.3,
      9.5,
      0.5,
      1 / 3,
      Math.PI,
      Math.E,
      4.35,
      0.000001,
      1e-6,
      1.5e300,
      123e-20,
    ];
    while (values.length < 100_000) {
      const r = next();
      if (r < 0.5) {
        // Any finite bit pattern: subnormals, huge exponents, long mantissas.
        bits.setUint32(0, Math.floor(next() * 2 ** 32));
        bits.setUint32(4, Math.floor(next() * 2 ** 32));
        const v = bits.getFloat64(0);
        if (Number.isFinite(v)) values.push(v);
      } else if (r < 0.8) {
        // Sensor-like decimals and their sums and averages.
        values.push(Math.round(next() * 2_000_000 - 1_000_000) / 10 ** Math.floor(next() * 4));
      } else {
        values.push((next() - 0.5) * 10 ** Math.floor(next() * 40 - 20));
      }
    }
    // Batches of 10 000 numbers: the output frame of one call must fit in the rule's memory.
    const out: OutRecord[] = [];
    for (let i = 0; i < values.length; i += 10_000) {
      const events: InEvent[] = [];
      for (let j = i; j < i + 10_000; j += 1000) {
        events.push({
          key: 'n',
          id: j + 1,
          payload: f64Payload(values.slice(j, j + 1000)),
          format: 'text',
        });
      }
      out.push(...run(rule, events));
    }
    expect(out.length).toBe(values.length);
    const mismatches: string[] = [];
    out.forEach((record, i) => {
      const parsed = (JSON.parse(record.text) as { v: number }).v;
      if (!Object.is(parsed, values[i])) mismatches.push(`${values[i]} → ${record.text}`);
    });
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it('writes NaN and ±Infinity as null, which is all JSON can say', async () => {
    const { rule } = startRule(await loadRule('json-echo', TEST_RULES_DIR));
    const out = run(rule, [{ key: 'n', id: 1, payload: f64Payload([NaN, Infinity, -Infinity]) }]);
    expect(out.map((r) => r.text)).toEqual(['{"v":null}', '{"v":null}', '{"v":null}']);
  });

  it('writes 64-bit integers exactly over the whole range', async () => {
    const { rule } = startRule(await loadRule('json-echo', TEST_RULES_DIR));
    const values = [
      0n,
      1n,
      -1n,
      9n,
      10n,
      -10n,
      2n ** 53n + 1n,
      -(2n ** 63n),
      2n ** 63n - 1n,
      1_700_000_000_123n,
    ];
    const out = run(rule, [{ key: 'n', id: 1, payload: i64Payload(values) }]);
    expect(out.map((r) => r.text)).toEqual(values.map((v) => `{"v":${v}}`));
  });

  it('escapes strings so JSON.parse gives back the same text', async () => {
    const { rule } = startRule(await loadRule('json-echo', TEST_RULES_DIR));
    const texts = [
      'plain',
      '',
      'quote " and backslash \\',
      'controls \u0000\u0001\u001f\n\r\t\b\f',
      'unicode é ß 中文 🚀',
      '</script> and \u2028 \u2029',
    ];
    const out = run(
      rule,
      texts.map((t, i) => ({
        key: 'dev-"1"',
        id: i + 1,
        payload: textPayload(t),
        format: 'text' as const,
      })),
    );
    expect(out.map((r) => JSON.parse(r.text) as unknown)).toEqual(
      texts.map((t) => ({ s: t, b: t })),
    );
    expect(out[0]).toMatchObject({ output: 'default', key: 'dev-"1"', id: 1n, format: 1 });
  });
});
