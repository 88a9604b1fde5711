/**
 * @module Converts a JSON number token to the f64 `JSON.parse` gives, bit for bit, without
 * allocating, and to an exact i64 for integer tokens.
 *
 * Three tiers, as in Go's strconv (the algorithms, tables and bounds follow it):
 * 1. Clinger's fast path: a mantissa ≤ 2^53 and |exp10| ≤ 22 (plus integers × 10^k that stay
 *    ≤ 1e15) is exact in f64 arithmetic. Every short reading ("21.5", "1700000000123") ends here.
 * 2. Eisel–Lemire with the 128-bit power-of-ten table (`pow10-table.ts`) for up to 19 significant
 *    digits, and for longer mantissas when the truncated mantissa and its successor round alike.
 * 3. Otherwise the multiprecision decimal of `json-decimal.ts` (Go's `decimal`), shifted
 *    by powers of two: slow but exact, and allocation-free as well.
 *
 * Callers pass a token whose JSON number grammar the scanner has already checked
 * (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`); the functions still never read at or past
 * `end` and stop at the first byte that cannot continue a number.
 */

import { decimalToF64 } from './json-decimal';
import { POW10_MAX_EXP, POW10_MIN_EXP, POW10_TABLE } from './pow10-table';

/** 1e0 .. 1e22, each exact in f64. */
const EXACT_POW10: usize = memory.data<f64>([
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
  1e18, 1e19, 1e20, 1e21, 1e22,
]);

// Parts of the last token read by `readParts`.
let partMan: u64 = 0; // up to the first 19 significant digits
let partExp: i64 = 0; // value = partMan × 10^partExp (when nothing was truncated)
let partNeg = false;
let partTrunc = false; // a nonzero digit after the 19th was dropped
let partInteger = true; // no fraction and no exponent
let partEnd: usize = 0; // first byte after the token

function readParts(start: usize, end: usize): void {
  let p = start;
  let neg = false;
  if (p < end && load<u8>(p) == 0x2d) {
    neg = true;
    p++;
  }
  let man: u64 = 0;
  let ndMant = 0;
  let nd: i64 = 0;
  let dp: i64 = 0;
  let sawDot = false;
  let trunc = false;
  let integer = true;
  // An integer part that starts with 1–9 (JSON has no other leading zeros): its first 19
  // digits go straight into the mantissa.
  if (p < end && <u32>load<u8>(p) - 0x31 < 9) {
    while (p < end && ndMant < 19) {
      const d = <u32>load<u8>(p) - 0x30;
      if (d >= 10) break;
      man = man * 10 + <u64>d;
      ndMant++;
      p++;
    }
    nd = ndMant;
  }
  while (p < end) {
    const c = <u32>load<u8>(p);
    const d = c - 0x30;
    if (d < 10) {
      if (d == 0 && nd == 0) {
        dp--; // leading zero: only moves the decimal point
      } else {
        nd++;
        if (ndMant < 19) {
          man = man * 10 + <u64>d;
          ndMant++;
        } else if (d != 0) {
          trunc = true;
        }
      }
    } else if (c == 0x2e && !sawDot) {
      sawDot = true;
      integer = false;
      dp = nd;
    } else {
      break;
    }
    p++;
  }
  if (!sawDot) dp = nd;
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    integer = false;
    p++;
    let eneg = false;
    if (p < end) {
      const s = load<u8>(p);
      if (s == 0x2d || s == 0x2b) {
        eneg = s == 0x2d;
        p++;
      }
    }
    let e: i64 = 0;
    while (p < end) {
      const d = <u32>load<u8>(p) - 0x30;
      if (d >= 10) break;
      if (e < 100000) e = e * 10 + <i64>d; // saturate: beyond this it is ±Infinity or 0 anyway
      p++;
    }
    dp += eneg ? -e : e;
  }
  partMan = man;
  partExp = man != 0 ? dp - <i64>ndMant : 0;
  partNeg = neg;
  partTrunc = trunc;
  partInteger = integer;
  partEnd = p;
}

// High 64 bits of the last `mulWide`.
let mulHigh: u64 = 0;

/** Low 64 bits of the 128-bit product a × b; the high bits go to `mulHigh`. */
function mulWide(a: u64, b: u64): u64 {
  const aL = a & 0xffffffff;
  const aH = a >>> 32;
  const bL = b & 0xffffffff;
  const bH = b >>> 32;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const mid = (ll >>> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);
  mulHigh = aH * bH + (lh >>> 32) + (hl >>> 32) + (mid >>> 32);
  return (mid << 32) | (ll & 0xffffffff);
}

let elOk = false;

/**
 * Eisel–Lemire: man × 10^exp10 correctly rounded, or `elOk = false` when the 128-bit
 * approximation cannot decide (then the decimal fallback runs). Port of Go's eiselLemire64.
 */
function eiselLemire(man: u64, exp10: i64, neg: bool): f64 {
  elOk = false;
  if (man == 0) {
    elOk = true;
    return neg ? -0.0 : 0.0;
  }
  if (exp10 < POW10_MIN_EXP || exp10 > POW10_MAX_EXP) return 0;
  const e = <i32>exp10;
  const lz = clz<u64>(man);
  man <<= lz;
  let retExp2: u64 = <u64>(<i64>(((217706 * e) >> 16) + 64 + 1023)) - lz;
  const entry = POW10_TABLE + ((<usize>(e - POW10_MIN_EXP)) << 4);
  let xLo = mulWide(man, load<u64>(entry));
  let xHi = mulHigh;
  if ((xHi & 0x1ff) == 0x1ff && xLo + man < man) {
    const yLo = mulWide(man, load<u64>(entry, 8));
    const yHi = mulHigh;
    let mergedHi = xHi;
    const mergedLo = xLo + yHi;
    if (mergedLo < xLo) mergedHi++;
    if ((mergedHi & 0x1ff) == 0x1ff && mergedLo + 1 == 0 && yLo + man < man) return 0;
    xHi = mergedHi;
    xLo = mergedLo;
  }
  const msb = xHi >>> 63;
  let retMan = xHi >>> (msb + 9);
  retExp2 -= 1 ^ msb;
  if (xLo == 0 && (xHi & 0x1ff) == 0 && (retMan & 3) == 1) return 0; // halfway: undecided
  retMan += retMan & 1;
  retMan >>>= 1;
  if (retMan >>> 53 > 0) {
    retMan >>>= 1;
    retExp2 += 1;
  }
  if (retExp2 - 1 >= 0x7ff - 1) return 0; // subnormal or infinite: let the decimal path decide
  let bits = (retExp2 << 52) | (retMan & 0x000fffffffffffff);
  if (neg) bits |= 0x8000000000000000;
  elOk = true;
  return reinterpret<f64>(bits);
}

/**
 * Eisel–Lemire alone for a valid number token, NaN when it cannot decide (then the exact path
 * runs). Exported for tests.
 */
export function eiselLemireJsonNumber(start: usize, end: usize): f64 {
  readParts(start, end);
  const f = eiselLemire(partMan, partExp, partNeg);
  if (!elOk) return NaN;
  if (!partTrunc) return f;
  const up = eiselLemire(partMan + 1, partExp, partNeg);
  return elOk && up == f ? f : NaN;
}

/** The f64 value of the JSON number token at `start` (what `JSON.parse` returns for it). */
export function parseJsonNumber(start: usize, end: usize): f64 {
  readParts(start, end);
  const man = partMan;
  const neg = partNeg;
  const exp = partExp;
  if (!partTrunc && man <= (<u64>1) << 53) {
    let f = <f64>man;
    if (neg) f = -f;
    if (exp == 0) return f;
    if (exp > 0 && exp <= 15 + 22) {
      // A big exponent with few digits: move zeros into the integer while it stays exact.
      let e = exp;
      if (e > 22) {
        f *= load<f64>(EXACT_POW10 + ((<usize>(e - 22)) << 3));
        e = 22;
      }
      if (!(f > 1e15 || f < -1e15)) return f * load<f64>(EXACT_POW10 + ((<usize>e) << 3));
    } else if (exp < 0 && exp >= -22) {
      return f / load<f64>(EXACT_POW10 + ((<usize>-exp) << 3));
    }
  }
  const f = eiselLemire(man, exp, neg);
  if (elOk) {
    if (!partTrunc) return f;
    const up = eiselLemire(man + 1, exp, neg);
    if (elOk && up == f) return f;
  }
  return decimalToF64(start, end, neg);
}

/** Whether the last `parseJsonI64` produced an integer. */
let i64Ok = false;

/** Whether the last `parseJsonI64` call produced an integer (otherwise the value is 0). */
export function jsonI64Ok(): bool {
  return i64Ok;
}

/**
 * The i64 value of the JSON number token at `start`. A token without fraction or exponent is read
 * exactly over the whole i64 range (beyond 2^53 that is more precise than `JSON.parse`) and is
 * not an integer beyond it; any other token converts through its f64 value, which must be
 * integral and within ±2^63 ("1.0", "1e3" and "1.7e12" are integers, "1.5" is not).
 * `jsonI64Ok()` says whether the result is an integer.
 */
export function parseJsonI64(start: usize, end: usize): i64 {
  readParts(start, end);
  i64Ok = true;
  if (partInteger) {
    // Exact, or out of range: an integer token never goes through f64.
    // partMan holds every digit (≤ 19 of them) when partExp is 0; "…000" tails set partExp > 0.
    let v = partMan;
    let e = partExp;
    let fits = true;
    while (e > 0 && fits) {
      if (v > 0xffffffffffffffff / 10) fits = false;
      else v *= 10;
      e--;
    }
    if (fits && !partTrunc) {
      if (partNeg) {
        if (v <= 0x8000000000000000) return <i64>(0 - v);
      } else if (v <= 0x7fffffffffffffff) {
        return <i64>v;
      }
    }
    i64Ok = false;
    return 0;
  }
  const f = parseJsonNumber(start, end);
  if (f == Math.trunc(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0) {
    return <i64>f;
  }
  i64Ok = false;
  return 0;
}
