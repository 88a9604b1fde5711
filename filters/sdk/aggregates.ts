/**
 * @module `Aggregates`: the accumulators one window computes, composed from a list such as
 * `"count,mean,stddev,p50,p99"`, over one value per event. Every window's accumulators live in
 * one fixed-size area of raw memory (`size` bytes) laid out once, at configuration time, so
 * adding a value is a few loads and stores with no allocation; only a quantile sketch owns
 * memory of its own (`quantile-sketch.ts`), allocated when the window opens.
 *
 * Items (each is also the name of its member in the JSON result, in the order given):
 *   count     number of values (an integer)
 *   sum       sum, in arrival order (a merge adds the two sums)
 *   min, max  smallest and largest value
 *   mean      sum / count; `avg` is the same under the name "avg"
 *   first     value of the event with the earliest event time (ties: the one that came first)
 *   last      value of the event with the latest event time (ties: the one that came last)
 *   stddev    population standard deviation, sqrt(M2 / count), by Welford's update (stable for
 *             values with a large mean); merges use Chan et al.'s pairwise formula
 *   duration  latest minus earliest event time, in ms (an integer)
 *   pQ        quantile Q (0 ≤ Q ≤ 100, e.g. p50, p99, p99.9) from a quantile sketch with
 *             relative accuracy `accuracy` (1% by default)
 */

import { JsonObject } from './json-object';
import { QuantileSketch } from './quantile-sketch';
import { StateReader, StateWriter } from './state';

const AGG_COUNT: i32 = 0;
const AGG_SUM: i32 = 1;
const AGG_MIN: i32 = 2;
const AGG_MAX: i32 = 3;
const AGG_MEAN: i32 = 4;
const AGG_FIRST: i32 = 5;
const AGG_LAST: i32 = 6;
const AGG_STDDEV: i32 = 7;
const AGG_DURATION: i32 = 8;
const AGG_QUANTILE: i32 = 9;

// What the items need stored.
const NEED_SUM: u32 = 1;
const NEED_MIN: u32 = 2;
const NEED_MAX: u32 = 4;
const NEED_FIRST: u32 = 8;
const NEED_LAST: u32 = 16;
const NEED_WELFORD: u32 = 32;
const NEED_SKETCH: u32 = 64;

// Always present.
const A_COUNT: usize = 0; // i64
const A_MIN_TIME: usize = 8; // i64 earliest event time
const A_MAX_TIME: usize = 16; // i64 latest event time

/** The items `Aggregates` understands, for error messages. */
export const AGGREGATE_ITEMS =
  'count, sum, min, max, mean, avg, first, last, stddev, duration or a quantile p0…p100 such as p99';

/** A composition of accumulators and the layout of their area. */
export class Aggregates {
  /** The items, normalized: trimmed, comma-separated. */
  readonly spec: string;
  /** Why the spec was refused, or null. */
  readonly error: string | null;
  /** Bytes of one window's accumulator area. */
  readonly size: u32;
  /** The sketch mapping when a quantile is asked for, else null. */
  readonly sketch: QuantileSketch | null;
  private _kinds: StaticArray<i32>;
  private _names: StaticArray<string>;
  private _qs: StaticArray<f64>;
  private _needs: u32 = 0;
  private _sum: usize = 0;
  private _min: usize = 0;
  private _max: usize = 0;
  private _first: usize = 0;
  private _last: usize = 0;
  private _mean: usize = 0;
  private _m2: usize = 0;
  private _sk: usize = 0;

  /** @param spec items, comma-separated. @param accuracy relative accuracy of quantiles. */
  constructor(spec: string, accuracy: f64) {
    const parts = spec.split(',');
    const kinds = new Array<i32>();
    const names = new Array<string>();
    const qs = new Array<f64>();
    let error: string | null = null;
    let needs: u32 = 0;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i].trim();
      if (name.length == 0) continue;
      const kind = kindOf(name);
      if (kind < 0) {
        if (error === null)
          error = '"' + name + '" is not an aggregate (expected ' + AGGREGATE_ITEMS + ')';
        continue;
      }
      if (names.includes(name) && error === null) error = '"' + name + '" is listed twice';
      kinds.push(kind);
      names.push(name);
      qs.push(kind == AGG_QUANTILE ? quantileOf(name) : 0);
      needs |= needsOf(kind);
    }
    if (names.length == 0 && error === null)
      error = 'no aggregate is listed (expected ' + AGGREGATE_ITEMS + ')';
    this.spec = names.join(',');
    this.error = error;
    this._kinds = StaticArray.fromArray<i32>(kinds);
    this._names = StaticArray.fromArray<string>(names);
    this._qs = StaticArray.fromArray<f64>(qs);
    this._needs = needs;
    let at: usize = 24;
    if (needs & NEED_SUM) {
      this._sum = at;
      at += 8;
    }
    if (needs & NEED_MIN) {
      this._min = at;
      at += 8;
    }
    if (needs & NEED_MAX) {
      this._max = at;
      at += 8;
    }
    if (needs & NEED_FIRST) {
      this._first = at;
      at += 8;
    }
    if (needs & NEED_LAST) {
      this._last = at;
      at += 8;
    }
    if (needs & NEED_WELFORD) {
      this._mean = at;
      this._m2 = at + 8;
      at += 16;
    }
    // The sketch address comes last: a snapshot writes the area without it.
    if (needs & NEED_SKETCH) {
      this._sk = at;
      at += 8;
    }
    this.sketch = needs & NEED_SKETCH ? new QuantileSketch(accuracy) : null;
    this.size = <u32>at;
  }

  /** Opens an area with its first value `v` at event time `t`. */
  start(a: usize, t: i64, v: f64): void {
    const needs = this._needs;
    store<i64>(a, 1, A_COUNT);
    store<i64>(a, t, A_MIN_TIME);
    store<i64>(a, t, A_MAX_TIME);
    if (needs & NEED_SUM) store<f64>(a + this._sum, v);
    if (needs & NEED_MIN) store<f64>(a + this._min, v);
    if (needs & NEED_MAX) store<f64>(a + this._max, v);
    if (needs & NEED_FIRST) store<f64>(a + this._first, v);
    if (needs & NEED_LAST) store<f64>(a + this._last, v);
    if (needs & NEED_WELFORD) {
      store<f64>(a + this._mean, v);
      store<f64>(a + this._m2, 0);
    }
    if (needs & NEED_SKETCH) {
      const sketch = this.sketch!;
      let s = <usize>load<u32>(a + this._sk);
      if (s == 0) {
        s = sketch.create();
        store<u64>(a + this._sk, <u64>s);
      } else {
        sketch.clear(s);
      }
      sketch.add(s, v);
    }
  }

  /** Adds value `v` at event time `t` to an open area. */
  add(a: usize, t: i64, v: f64): void {
    const needs = this._needs;
    const n = load<i64>(a, A_COUNT) + 1;
    store<i64>(a, n, A_COUNT);
    if (t < load<i64>(a, A_MIN_TIME)) {
      store<i64>(a, t, A_MIN_TIME);
      if (needs & NEED_FIRST) store<f64>(a + this._first, v);
    }
    if (t >= load<i64>(a, A_MAX_TIME)) {
      store<i64>(a, t, A_MAX_TIME);
      if (needs & NEED_LAST) store<f64>(a + this._last, v);
    }
    if (needs & NEED_SUM) store<f64>(a + this._sum, load<f64>(a + this._sum) + v);
    if (needs & NEED_MIN) if (v < load<f64>(a + this._min)) store<f64>(a + this._min, v);
    if (needs & NEED_MAX) if (v > load<f64>(a + this._max)) store<f64>(a + this._max, v);
    if (needs & NEED_WELFORD) {
      const mean = load<f64>(a + this._mean);
      const d = v - mean;
      const next = mean + d / <f64>n;
      store<f64>(a + this._mean, next);
      store<f64>(a + this._m2, load<f64>(a + this._m2) + d * (v - next));
    }
    if (needs & NEED_SKETCH) this.sketch!.add(<usize>load<u32>(a + this._sk), v);
  }

  /** Adds the values of area `src` to `dst` (`src` is the later window: it wins ties of `last`). */
  merge(dst: usize, src: usize): void {
    const needs = this._needs;
    const na = load<i64>(dst, A_COUNT);
    const nb = load<i64>(src, A_COUNT);
    store<i64>(dst, na + nb, A_COUNT);
    if (load<i64>(src, A_MIN_TIME) < load<i64>(dst, A_MIN_TIME)) {
      store<i64>(dst, load<i64>(src, A_MIN_TIME), A_MIN_TIME);
      if (needs & NEED_FIRST) store<f64>(dst + this._first, load<f64>(src + this._first));
    }
    if (load<i64>(src, A_MAX_TIME) >= load<i64>(dst, A_MAX_TIME)) {
      store<i64>(dst, load<i64>(src, A_MAX_TIME), A_MAX_TIME);
      if (needs & NEED_LAST) store<f64>(dst + this._last, load<f64>(src + this._last));
    }
    if (needs & NEED_SUM) {
      store<f64>(dst + this._sum, load<f64>(dst + this._sum) + load<f64>(src + this._sum));
    }
    if (needs & NEED_MIN) {
      const v = load<f64>(src + this._min);
      if (v < load<f64>(dst + this._min)) store<f64>(dst + this._min, v);
    }
    if (needs & NEED_MAX) {
      const v = load<f64>(src + this._max);
      if (v > load<f64>(dst + this._max)) store<f64>(dst + this._max, v);
    }
    if (needs & NEED_WELFORD) {
      const fa = <f64>na;
      const fb = <f64>nb;
      const n = fa + fb;
      const ma = load<f64>(dst + this._mean);
      const d = load<f64>(src + this._mean) - ma;
      store<f64>(dst + this._mean, ma + (d * fb) / n);
      const m2 = load<f64>(dst + this._m2) + load<f64>(src + this._m2);
      store<f64>(dst + this._m2, m2 + (d * d * fa * fb) / n);
    }
    if (needs & NEED_SKETCH) {
      this.sketch!.merge(<usize>load<u32>(dst + this._sk), <usize>load<u32>(src + this._sk));
    }
  }

  /** Frees what an area owns (its sketch); the area may be started again afterwards. */
  release(a: usize): void {
    if (this._needs & NEED_SKETCH) {
      const s = <usize>load<u32>(a + this._sk);
      if (s != 0) this.sketch!.release(s);
      store<u64>(a + this._sk, 0);
    }
  }

  /** Number of values in an area. */
  count(a: usize): i64 {
    return load<i64>(a, A_COUNT);
  }

  /** Earliest event time in an area. */
  minTime(a: usize): i64 {
    return load<i64>(a, A_MIN_TIME);
  }

  /** Latest event time in an area. */
  maxTime(a: usize): i64 {
    return load<i64>(a, A_MAX_TIME);
  }

  /** Writes every item of an area as members of `json`, in the order of the spec. */
  write(json: JsonObject, a: usize): void {
    const kinds = this._kinds;
    const names = this._names;
    const count = load<i64>(a, A_COUNT);
    for (let i = 0; i < kinds.length; i++) {
      const kind = unchecked(kinds[i]);
      const name = unchecked(names[i]);
      if (kind == AGG_COUNT) json.int(name, count);
      else if (kind == AGG_SUM) json.num(name, load<f64>(a + this._sum));
      else if (kind == AGG_MIN) json.num(name, load<f64>(a + this._min));
      else if (kind == AGG_MAX) json.num(name, load<f64>(a + this._max));
      else if (kind == AGG_MEAN) json.num(name, load<f64>(a + this._sum) / <f64>count);
      else if (kind == AGG_FIRST) json.num(name, load<f64>(a + this._first));
      else if (kind == AGG_LAST) json.num(name, load<f64>(a + this._last));
      else if (kind == AGG_STDDEV) json.num(name, Math.sqrt(load<f64>(a + this._m2) / <f64>count));
      else if (kind == AGG_DURATION)
        json.int(name, load<i64>(a, A_MAX_TIME) - load<i64>(a, A_MIN_TIME));
      else
        json.num(
          name,
          this.sketch!.quantile(<usize>load<u32>(a + this._sk), unchecked(this._qs[i])),
        );
    }
  }

  /** Writes an area (its sketch by value). */
  save(w: StateWriter, a: usize): void {
    if (this._needs & NEED_SKETCH) {
      w.bytes(a, <usize>this._sk);
      this.sketch!.save(w, <usize>load<u32>(a + this._sk));
    } else {
      w.bytes(a, <usize>this.size);
    }
  }

  /** Reads an area written by `save` into `a` (which owns nothing); false on a bad state. */
  load(r: StateReader, a: usize): bool {
    const fixed = this._needs & NEED_SKETCH ? this._sk : <usize>this.size;
    const p = r.take(fixed);
    if (p == 0) return false;
    memory.copy(a, p, fixed);
    if (load<i64>(a, A_COUNT) <= 0) {
      r.fail('state holds a window with ' + load<i64>(a, A_COUNT).toString() + ' values');
      return false;
    }
    if (this._needs & NEED_SKETCH) {
      const s = this.sketch!.load(r);
      store<u64>(a + this._sk, <u64>s);
      return s != 0;
    }
    return true;
  }
}

function kindOf(name: string): i32 {
  if (name == 'count') return AGG_COUNT;
  if (name == 'sum') return AGG_SUM;
  if (name == 'min') return AGG_MIN;
  if (name == 'max') return AGG_MAX;
  if (name == 'mean' || name == 'avg') return AGG_MEAN;
  if (name == 'first') return AGG_FIRST;
  if (name == 'last') return AGG_LAST;
  if (name == 'stddev') return AGG_STDDEV;
  if (name == 'duration') return AGG_DURATION;
  return quantileOf(name) >= 0 ? AGG_QUANTILE : -1;
}

/** `p99.9` → 0.999; -1 when `name` is not `p` followed by a number from 0 to 100. */
function quantileOf(name: string): f64 {
  if (name.length < 2 || name.charCodeAt(0) != 0x70) return -1;
  let dots = 0;
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c == 0x2e) dots++;
    else if (c < 0x30 || c > 0x39) return -1;
  }
  if (dots > 1 || name.charCodeAt(1) == 0x2e || name.charCodeAt(name.length - 1) == 0x2e) return -1;
  const q = parseFloat(name.substring(1));
  return q >= 0 && q <= 100 ? q / 100 : -1;
}

function needsOf(kind: i32): u32 {
  if (kind == AGG_SUM || kind == AGG_MEAN) return NEED_SUM;
  if (kind == AGG_MIN) return NEED_MIN;
  if (kind == AGG_MAX) return NEED_MAX;
  if (kind == AGG_FIRST) return NEED_FIRST;
  if (kind == AGG_LAST) return NEED_LAST;
  if (kind == AGG_STDDEV) return NEED_WELFORD;
  if (kind == AGG_QUANTILE) return NEED_SKETCH;
  return 0;
}
