/**
 * @module Converts a JSON number token to the f64 `JSON.parse` gives, bit for bit, without
 * allocating, and to an exact i64 for integer tokens.
 *
 * Three tiers, as in Go's strconv (the algorithms, tables and bounds follow it):
 * 1. Clinger's fast path: a mantissa ≤ 2^53 and |exp10| ≤ 22 (plus integers × 10^k that stay
 *    ≤ 1e15) is exact in f64 arithmetic. Every short reading ("21.5", "1700000000123") ends here.
 * 2. Eisel–Lemire with the 128-bit power-of-ten table (`pow10-table.ts`) for up to 19 significant
 *    digits, and for longer mantissas when the truncated mantissa and its successor round alike.
 * 3. Otherwise a multiprecision decimal (800 digits in a static buffer, Go's `decimal`) shifted
 *    by powers of two: slow but exact, and allocation-free as well.
 *
 * Callers pass a token whose JSON number grammar the scanner has already checked
 * (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`); the functions still never read at or past
 * `end` and stop at the first byte that cannot continue a number.
 */

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

// ---- Multiprecision decimal fallback (Go's strconv/decimal.go), in a static buffer ----

const DEC_CAP: i32 = 800;
const DEC: usize = memory.data(800);
const SCRATCH: usize = memory.data(24);
let decNd: i32 = 0; // digits used, ASCII at DEC[0 .. decNd)
let decDp: i32 = 0; // decimal point: value = 0.DIGITS × 10^decDp
let decTrunc = false; // nonzero digits were dropped past DEC_CAP

function decDigit(i: i32): u32 {
  return <u32>load<u8>(DEC + <usize>i);
}

function decSet(start: usize, end: usize): void {
  let p = start;
  if (p < end && load<u8>(p) == 0x2d) p++;
  decNd = 0;
  decTrunc = false;
  let all: i64 = 0; // significant digits, kept or dropped
  let dp: i64 = 0;
  let sawDot = false;
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c - 0x30 < 10) {
      if (c == 0x30 && all == 0) {
        dp--;
      } else {
        all++;
        if (decNd < DEC_CAP) {
          store<u8>(DEC + <usize>decNd, <u8>c);
          decNd++;
        } else if (c != 0x30) {
          decTrunc = true;
        }
      }
    } else if (c == 0x2e && !sawDot) {
      sawDot = true;
      dp = all;
    } else {
      break;
    }
    p++;
  }
  if (!sawDot) dp = all;
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
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
      if (e < 100000) e = e * 10 + <i64>d;
      p++;
    }
    dp += eneg ? -e : e;
  }
  // Clamp: any decimal point beyond ±1e6 already means Infinity or 0 in floatBits.
  if (dp > 1000000) dp = 1000000;
  if (dp < -1000000) dp = -1000000;
  decDp = <i32>dp;
}

function decTrim(): void {
  while (decNd > 0 && decDigit(decNd - 1) == 0x30) decNd--;
  if (decNd == 0) decDp = 0;
}

/** Divides by 2^k, k ≤ 27. */
function decRightShift(k: u32): void {
  let r = 0;
  let w = 0;
  let n: u64 = 0;
  while (n >>> k == 0) {
    if (r >= decNd) {
      if (n == 0) {
        decNd = 0;
        return;
      }
      while (n >>> k == 0) {
        n *= 10;
        r++;
      }
      break;
    }
    n = n * 10 + <u64>(decDigit(r) - 0x30);
    r++;
  }
  decDp -= r - 1;
  const mask: u64 = ((<u64>1) << k) - 1;
  for (; r < decNd; r++) {
    const c = decDigit(r);
    const dig = n >>> k;
    n &= mask;
    store<u8>(DEC + <usize>w, <u8>(dig + 0x30));
    w++;
    n = n * 10 + <u64>(c - 0x30);
  }
  while (n > 0) {
    const dig = n >>> k;
    n &= mask;
    if (w < DEC_CAP) {
      store<u8>(DEC + <usize>w, <u8>(dig + 0x30));
      w++;
    } else if (dig > 0) {
      decTrunc = true;
    }
    n *= 10;
  }
  decNd = w;
  decTrim();
}

/** Whether the digits are lexicographically below the decimal digits of 5^k. */
function decBelowPow5(k: u32): bool {
  let v: u64 = 1;
  for (let i: u32 = 0; i < k; i++) v *= 5;
  let n = 0;
  while (v > 0) {
    store<u8>(SCRATCH + <usize>n, <u8>(v % 10));
    v /= 10;
    n++;
  }
  for (let i = 0; i < n; i++) {
    if (i >= decNd) return true;
    const want = <u32>load<u8>(SCRATCH + <usize>(n - 1 - i)) + 0x30;
    const have = decDigit(i);
    if (have != want) return have < want;
  }
  return false;
}

/** Multiplies by 2^k, k ≤ 27. */
function decLeftShift(k: u32): void {
  // New digits: as many as 2^k has, one fewer when the digits are below 5^k (Go's leftcheats).
  let delta = 0;
  for (let v: u64 = (<u64>1) << k; v > 0; v /= 10) delta++;
  if (decBelowPow5(k)) delta--;
  let r = decNd - 1;
  let w = decNd + delta;
  let n: u64 = 0;
  for (; r >= 0; r--) {
    n += (<u64>(decDigit(r) - 0x30)) << k;
    const quo = n / 10;
    const rem = n - 10 * quo;
    w--;
    if (w < DEC_CAP) {
      store<u8>(DEC + <usize>w, <u8>(rem + 0x30));
    } else if (rem != 0) {
      decTrunc = true;
    }
    n = quo;
  }
  while (n > 0) {
    const quo = n / 10;
    const rem = n - 10 * quo;
    w--;
    if (w < DEC_CAP) {
      store<u8>(DEC + <usize>w, <u8>(rem + 0x30));
    } else if (rem != 0) {
      decTrunc = true;
    }
    n = quo;
  }
  decNd += delta;
  if (decNd >= DEC_CAP) decNd = DEC_CAP;
  decDp += delta;
  decTrim();
}

function decShift(k: i32): void {
  if (decNd == 0) return;
  if (k > 0) {
    while (k > 27) {
      decLeftShift(27);
      k -= 27;
    }
    decLeftShift(<u32>k);
  } else if (k < 0) {
    while (k < -27) {
      decRightShift(27);
      k += 27;
    }
    decRightShift(<u32>-k);
  }
}

function decShouldRoundUp(nd: i32): bool {
  if (nd < 0 || nd >= decNd) return false;
  if (decDigit(nd) == 0x35 && nd + 1 == decNd) {
    if (decTrunc) return true; // a little above halfway
    return nd > 0 && (decDigit(nd - 1) - 0x30) % 2 != 0;
  }
  return decDigit(nd) >= 0x35;
}

function decRoundedInteger(): u64 {
  if (decDp > 20) return 0xffffffffffffffff;
  let n: u64 = 0;
  let i = 0;
  for (; i < decDp && i < decNd; i++) n = n * 10 + <u64>(decDigit(i) - 0x30);
  for (; i < decDp; i++) n *= 10;
  if (decShouldRoundUp(decDp)) n++;
  return n;
}

/** Binary shifts needed to bring 10^i below 1 (Go's powtab). */
function powtab(i: i32): i32 {
  if (i >= 9) return 27;
  return <i32>load<u8>(POWTAB + <usize>i);
}
const POWTAB: usize = memory.data<u8>([1, 3, 6, 9, 13, 16, 19, 23, 26]);

/**
 * The exact conversion alone (Go's decimal.floatBits for float64), for any valid number token;
 * `parseJsonNumber` uses it only when the faster tiers cannot decide. Exported for tests.
 */
export function exactJsonNumber(start: usize, end: usize): f64 {
  return decimalToF64(start, end, start < end && load<u8>(start) == 0x2d);
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

function decimalToF64(start: usize, end: usize, neg: bool): f64 {
  decSet(start, end);
  const BIAS = -1023;
  let exp = 0;
  let mant: u64 = 0;
  let bits: u64;
  if (decNd == 0) {
    bits = 0;
  } else if (decDp > 310) {
    bits = 0x7ff0000000000000;
  } else if (decDp < -330) {
    bits = 0;
  } else {
    while (decDp > 0) {
      const n = powtab(decDp);
      decShift(-n);
      exp += n;
    }
    while (decDp < 0 || (decDp == 0 && decDigit(0) < 0x35)) {
      const n = powtab(-decDp);
      decShift(n);
      exp -= n;
    }
    exp--; // the range is [0.5, 1) but floats are [1, 2)
    if (exp < BIAS + 1) {
      const n = BIAS + 1 - exp;
      decShift(-n);
      exp += n;
    }
    if (exp - BIAS >= 0x7ff) {
      bits = 0x7ff0000000000000;
    } else {
      decShift(53);
      mant = decRoundedInteger();
      if (mant == (<u64>2) << 52) {
        mant >>>= 1;
        exp++;
      }
      if (exp - BIAS >= 0x7ff) {
        bits = 0x7ff0000000000000;
      } else {
        if ((mant & ((<u64>1) << 52)) == 0) exp = BIAS; // subnormal
        bits = (mant & 0x000fffffffffffff) | ((<u64>((exp - BIAS) & 0x7ff)) << 52);
      }
    }
  }
  if (neg) bits |= 0x8000000000000000;
  return reinterpret<f64>(bits);
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
