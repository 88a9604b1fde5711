/**
 * @module `QuantileSketch`: a mergeable quantile sketch in the style of DDSketch (Masson, Rim,
 * Lee, VLDB 2019) over raw memory. Values are counted in logarithmic buckets: bucket `i` holds
 * the values in (γ^(i-1), γ^i] with γ = (1 + α) / (1 − α), and answers with 2γ^i / (γ + 1), so
 * every quantile estimate is within a relative error α of the exact quantile (α = `accuracy`,
 * 1% by default): `|estimate − x| ≤ α·|x|` where x is the item of rank ⌊q·(n − 1)⌋ in sorted
 * order. Negative values use a mirrored store, and zero (|x| < 1e-300) has a bucket of its own.
 * The items of rank 0 and n − 1 are the exact minimum and maximum (so p0 and p100 are exact),
 * and every estimate is clamped to them.
 *
 * Memory: a 64-byte header plus, per sign, a dense array of u32 counts covering the buckets seen
 * (grown by doubling; at α = 1% a 100× spread of values takes ~230 buckets, ~1 KB). A store holds
 * at most 2048 buckets (a spread of 10^17 at α = 1%); past that the lowest buckets are merged,
 * which only affects the accuracy of the smallest magnitudes. Sketches merge bucket by bucket,
 * exactly (no accuracy lost), which session windows use when an event joins two sessions.
 *
 * The object holds the mapping (α, γ); a sketch is an address returned by `create`.
 */

import { StateReader, StateWriter } from './state';

// Sketch header.
const S_COUNT: usize = 0; // u64 values added
const S_ZERO: usize = 8; // u64 values counted as zero
const S_MIN: usize = 16; // f64
const S_MAX: usize = 24; // f64
const S_POS: usize = 32; // store of positive values
const S_NEG: usize = 48; // store of negative values (by magnitude)
const SKETCH_BYTES: usize = 64;
// Store: counts address u32, lowest index i32, capacity (buckets) u32.
const ST_PTR: usize = 0;
const ST_LO: usize = 4;
const ST_CAP: usize = 8;

/** Most buckets per sign. */
export const SKETCH_MAX_BUCKETS: u32 = 2048;
const INITIAL_BUCKETS: u32 = 64;
/** Magnitudes below this count as zero. */
const MIN_INDEXABLE: f64 = 1e-300;
/** Bucket indexes in a snapshot must lie within ±2^24 (far beyond any real index). */
const INDEX_LIMIT: i32 = 1 << 24;

/** A DDSketch-style quantile sketch mapping, and operations on sketches in raw memory. */
export class QuantileSketch {
  /** Relative accuracy α (0 < α < 1). */
  readonly accuracy: f64;
  /** γ = (1 + α) / (1 − α). */
  readonly gamma: f64;
  private _logGamma: f64;
  private _mid: f64;

  constructor(accuracy: f64) {
    this.accuracy = accuracy;
    this.gamma = (1 + accuracy) / (1 - accuracy);
    this._logGamma = Math.log(this.gamma);
    this._mid = 2 / (this.gamma + 1);
  }

  /** A new empty sketch (free it with `release`). */
  create(): usize {
    const s = heap.alloc(SKETCH_BYTES);
    memory.fill(s, 0, SKETCH_BYTES);
    store<f64>(s, Infinity, S_MIN);
    store<f64>(s, -Infinity, S_MAX);
    return s;
  }

  /** Frees a sketch and its stores. */
  release(s: usize): void {
    freeStore(s + S_POS);
    freeStore(s + S_NEG);
    heap.free(s);
  }

  /** Empties a sketch, keeping its memory. */
  clear(s: usize): void {
    store<u64>(s, 0, S_COUNT);
    store<u64>(s, 0, S_ZERO);
    store<f64>(s, Infinity, S_MIN);
    store<f64>(s, -Infinity, S_MAX);
    clearStore(s + S_POS);
    clearStore(s + S_NEG);
  }

  /** Number of values added. */
  count(s: usize): u64 {
    return load<u64>(s, S_COUNT);
  }

  /** Adds one value (NaN is ignored). */
  add(s: usize, v: f64): void {
    if (isNaN(v)) return;
    store<u64>(s, load<u64>(s, S_COUNT) + 1, S_COUNT);
    if (v < load<f64>(s, S_MIN)) store<f64>(s, v, S_MIN);
    if (v > load<f64>(s, S_MAX)) store<f64>(s, v, S_MAX);
    if (v >= MIN_INDEXABLE) {
      storeAdd(s + S_POS, this.index(v), 1);
    } else if (v <= -MIN_INDEXABLE) {
      storeAdd(s + S_NEG, this.index(-v), 1);
    } else {
      store<u64>(s, load<u64>(s, S_ZERO) + 1, S_ZERO);
    }
  }

  /** Adds every value of `src` to `dst` (same mapping). */
  merge(dst: usize, src: usize): void {
    store<u64>(dst, load<u64>(dst, S_COUNT) + load<u64>(src, S_COUNT), S_COUNT);
    store<u64>(dst, load<u64>(dst, S_ZERO) + load<u64>(src, S_ZERO), S_ZERO);
    if (load<f64>(src, S_MIN) < load<f64>(dst, S_MIN))
      store<f64>(dst, load<f64>(src, S_MIN), S_MIN);
    if (load<f64>(src, S_MAX) > load<f64>(dst, S_MAX))
      store<f64>(dst, load<f64>(src, S_MAX), S_MAX);
    mergeStore(dst + S_POS, src + S_POS);
    mergeStore(dst + S_NEG, src + S_NEG);
  }

  /** The estimate of quantile `q` (0…1); NaN for an empty sketch. */
  quantile(s: usize, q: f64): f64 {
    const count = load<u64>(s, S_COUNT);
    if (count == 0) return NaN;
    const rank = q * <f64>(count - 1);
    const lo = load<f64>(s, S_MIN);
    const hi = load<f64>(s, S_MAX);
    // The items of rank 0 and n − 1 are known exactly.
    if (rank < 1) return lo;
    if (rank >= <f64>(count - 1)) return hi;
    let cum: u64 = 0;
    // Negative values first, most negative (highest magnitude index) first.
    const neg = s + S_NEG;
    let p = <usize>load<u32>(neg, ST_PTR);
    if (p != 0) {
      const base = load<i32>(neg, ST_LO);
      for (let j = <i32>load<u32>(neg, ST_CAP) - 1; j >= 0; j--) {
        cum += <u64>load<u32>(p + ((<usize>j) << 2));
        if (<f64>cum > rank) return clamp(-this.value(base + j), lo, hi);
      }
    }
    cum += load<u64>(s, S_ZERO);
    if (<f64>cum > rank) return clamp(0, lo, hi);
    const pos = s + S_POS;
    p = <usize>load<u32>(pos, ST_PTR);
    if (p != 0) {
      const base = load<i32>(pos, ST_LO);
      const cap = <i32>load<u32>(pos, ST_CAP);
      for (let j = 0; j < cap; j++) {
        cum += <u64>load<u32>(p + ((<usize>j) << 2));
        if (<f64>cum > rank) return clamp(this.value(base + j), lo, hi);
      }
    }
    return hi;
  }

  /** Writes a sketch: counts, min, max, then the used range of each store. */
  save(w: StateWriter, s: usize): void {
    w.u64(load<u64>(s, S_COUNT));
    w.u64(load<u64>(s, S_ZERO));
    w.f64(load<f64>(s, S_MIN));
    w.f64(load<f64>(s, S_MAX));
    saveStore(w, s + S_POS);
    saveStore(w, s + S_NEG);
  }

  /** Reads a sketch written by `save` into a new one; 0 (and `r.error`) on a bad one. */
  load(r: StateReader): usize {
    const s = this.create();
    store<u64>(s, r.u64(), S_COUNT);
    store<u64>(s, r.u64(), S_ZERO);
    store<f64>(s, r.f64(), S_MIN);
    store<f64>(s, r.f64(), S_MAX);
    if (!loadStore(r, s + S_POS) || !loadStore(r, s + S_NEG)) {
      this.release(s);
      return 0;
    }
    return s;
  }

  // @ts-ignore: decorator
  @inline
  private index(magnitude: f64): i32 {
    return <i32>Math.ceil(Math.log(magnitude) / this._logGamma);
  }

  private value(i: i32): f64 {
    return Math.exp(<f64>i * this._logGamma) * this._mid;
  }
}

function clamp(v: f64, lo: f64, hi: f64): f64 {
  return v < lo ? lo : v > hi ? hi : v;
}

function freeStore(st: usize): void {
  const p = <usize>load<u32>(st, ST_PTR);
  if (p != 0) heap.free(p);
  store<u32>(st, 0, ST_PTR);
}

function clearStore(st: usize): void {
  const p = <usize>load<u32>(st, ST_PTR);
  if (p != 0) memory.fill(p, 0, (<usize>load<u32>(st, ST_CAP)) << 2);
}

/** Adds `c` to bucket `i`, growing (or, past the limit, collapsing the lowest buckets). */
function storeAdd(st: usize, i: i32, c: u32): void {
  let p = <usize>load<u32>(st, ST_PTR);
  if (p == 0) {
    const bytes = (<usize>INITIAL_BUCKETS) << 2;
    p = heap.alloc(bytes);
    memory.fill(p, 0, bytes);
    store<u32>(st, <u32>p, ST_PTR);
    store<i32>(st, i - <i32>(INITIAL_BUCKETS >> 1), ST_LO);
    store<u32>(st, INITIAL_BUCKETS, ST_CAP);
  }
  let lo = load<i32>(st, ST_LO);
  const cap = <i32>load<u32>(st, ST_CAP);
  if (i < lo || i >= lo + cap) {
    grow(st, i);
    p = <usize>load<u32>(st, ST_PTR);
    lo = load<i32>(st, ST_LO);
    if (i < lo) i = lo; // collapsed into the lowest bucket
  }
  const at = p + ((<usize>(i - lo)) << 2);
  store<u32>(at, load<u32>(at) + c);
}

function grow(st: usize, i: i32): void {
  const oldPtr = <usize>load<u32>(st, ST_PTR);
  const oldLo = load<i32>(st, ST_LO);
  const oldCap = <i32>load<u32>(st, ST_CAP);
  const up = i >= oldLo + oldCap;
  const hi = up ? i + 1 : oldLo + oldCap;
  const low = up ? oldLo : i;
  let cap = oldCap;
  while (cap < hi - low && cap < <i32>SKETCH_MAX_BUCKETS) cap <<= 1;
  // Growing up keeps the low end (room above); growing down keeps the high end (room below).
  const lo = up && cap >= hi - low ? oldLo : hi - cap;
  const bytes = (<usize>cap) << 2;
  const p = heap.alloc(bytes);
  memory.fill(p, 0, bytes);
  for (let j = 0; j < oldCap; j++) {
    const c = load<u32>(oldPtr + ((<usize>j) << 2));
    if (c == 0) continue;
    const k = oldLo + j < lo ? lo : oldLo + j;
    const at = p + ((<usize>(k - lo)) << 2);
    store<u32>(at, load<u32>(at) + c);
  }
  heap.free(oldPtr);
  store<u32>(st, <u32>p, ST_PTR);
  store<i32>(st, lo, ST_LO);
  store<u32>(st, <u32>cap, ST_CAP);
}

function mergeStore(dst: usize, src: usize): void {
  const p = <usize>load<u32>(src, ST_PTR);
  if (p == 0) return;
  const lo = load<i32>(src, ST_LO);
  const cap = <i32>load<u32>(src, ST_CAP);
  for (let j = 0; j < cap; j++) {
    const c = load<u32>(p + ((<usize>j) << 2));
    if (c != 0) storeAdd(dst, lo + j, c);
  }
}

function saveStore(w: StateWriter, st: usize): void {
  const p = <usize>load<u32>(st, ST_PTR);
  let first = 0;
  let end = 0;
  if (p != 0) {
    const cap = <i32>load<u32>(st, ST_CAP);
    first = cap;
    for (let j = 0; j < cap; j++) {
      if (load<u32>(p + ((<usize>j) << 2)) != 0) {
        if (j < first) first = j;
        end = j + 1;
      }
    }
    if (end == 0) first = 0;
  }
  w.u32(<u32>(p != 0 ? load<i32>(st, ST_LO) + first : 0));
  w.u32(<u32>(end - first));
  if (end > first) w.bytes(p + ((<usize>first) << 2), (<usize>(end - first)) << 2);
}

function loadStore(r: StateReader, st: usize): bool {
  const lo = <i32>r.u32();
  const n = r.u32();
  if (!r.ok) return false;
  if (n > SKETCH_MAX_BUCKETS || lo < -INDEX_LIMIT || lo > INDEX_LIMIT) {
    r.fail(
      'state holds a quantile sketch with ' + n.toString() + ' buckets from index ' + lo.toString(),
    );
    return false;
  }
  const p = r.take((<usize>n) << 2);
  if (p == 0 && n != 0) return false;
  for (let j: u32 = 0; j < n; j++) {
    const c = load<u32>(p + ((<usize>j) << 2));
    if (c != 0) storeAdd(st, lo + <i32>j, c);
  }
  return true;
}
