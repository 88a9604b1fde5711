/**
 * @module Comparing a windowed rule's outputs with the JS reference: every record must match
 * exactly (output, key, id, time, and the JSON result member by member), except quantiles,
 * which the rule estimates with a sketch: each must lie within the stated relative accuracy of
 * the exact quantile. Also a stream generator of out-of-order readings with late ones.
 */
import { expect } from 'vitest';
import { actual, expected } from './compare.js';
import type { Comparable } from './compare.js';
import type { Expected } from './reference.js';
import type { InEvent, OutRecord } from './rule-harness.js';

const QUANTILE = /^p\d+(\.\d+)?$/;

/**
 * Asserts that `got` equals `want` record by record; quantile members within `accuracy`
 * (relative; 1e-12 of slack for the rounding of the bucket bounds). Returns how many quantiles
 * were compared.
 */
export function expectSameResults(
  got: readonly OutRecord[],
  want: readonly Expected[],
  accuracy = 0.01,
): number {
  const a = actual(got);
  const b = expected(want);
  let checked = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    checked += settleQuantiles(a[i]!, b[i]!, accuracy);
  }
  expect(a).toEqual(b);
  return checked;
}

/** Replaces a quantile of `a` by the exact one of `b` when it is within accuracy; returns how many. */
function settleQuantiles(a: Comparable, b: Comparable, accuracy: number): number {
  if (a.output !== b.output || typeof a.body !== 'object' || typeof b.body !== 'object') return 0;
  const x = a.body as Record<string, unknown>;
  const y = b.body as Record<string, unknown>;
  let n = 0;
  for (const name of Object.keys(y)) {
    const est = x[name];
    const exact = y[name];
    if (!QUANTILE.test(name) || typeof est !== 'number' || typeof exact !== 'number') continue;
    if (Math.abs(est - exact) <= (accuracy + 1e-12) * Math.abs(exact)) {
      x[name] = exact;
      n++;
    }
  }
  return n;
}

/** Options of `outOfOrderStream`. */
export interface StreamOptions {
  devices: number;
  /** Share of events delayed within [0, outOfOrderMs]. @default 0.3 */
  disorder?: number;
  /** Typical delay bound of disordered events, ms. @default 200 */
  outOfOrderMs?: number;
  /** Share of events delayed up to `lateMs` (mostly late). @default 0.04 */
  lateShare?: number;
  /** @default 3000 */
  lateMs?: number;
  /** Add `site: "site-<device % 3>"` to payloads (for keyField). @default false */
  sites?: boolean;
  /** Chance per event that the clock jumps 150–600 ms (every device pauses). @default 0.01 */
  pauses?: number;
}

/**
 * `n` readings `{ts, temp[, site]}` from `firstId`: event times follow a clock that moves
 * 0–5 ms per event (now and then 150–600 ms: a pause), most arrive in order, `disorder` within outOfOrderMs, `lateShare` up to
 * lateMs behind. Values are multiples of 0.1 in [-50, 150] (never -0).
 */
export function outOfOrderStream(
  rng: () => number,
  n: number,
  firstId: number,
  clock: { now: number },
  options: StreamOptions,
): InEvent[] {
  const disorder = options.disorder ?? 0.3;
  const ooo = options.outOfOrderMs ?? 200;
  const lateShare = options.lateShare ?? 0.04;
  const lateMs = options.lateMs ?? 3000;
  const pauses = options.pauses ?? 0.01;
  const events: InEvent[] = [];
  for (let i = 0; i < n; i++) {
    clock.now += rng() < pauses ? 150 + Math.floor(rng() * 450) : Math.floor(rng() * 6);
    const d = Math.floor(rng() * options.devices);
    const r = rng();
    const delay =
      r < lateShare
        ? Math.floor(rng() * lateMs)
        : r < lateShare + disorder
          ? Math.floor(rng() * ooo)
          : 0;
    const ts = clock.now - delay;
    const temp = Math.round((rng() * 200 - 50) * 10) / 10 + 0;
    const payload: Record<string, unknown> = { ts, temp };
    if (options.sites === true) payload['site'] = `site-${d % 3}`;
    events.push({ key: `dev-${d}`, id: firstId + i, time: clock.now, payload });
  }
  return events;
}
