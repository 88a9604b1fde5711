/**
 * @module The exact, slow tier of the JSON number conversion (`json-number.ts`): a
 * multiprecision decimal of up to 800 digits in a static buffer, scaled by powers of two until the
 * 53-bit mantissa can be rounded off (Go's strconv/decimal.go and decimal.floatBits). Used only
 * when Eisel–Lemire cannot decide: exact halfway points, subnormals, overflow, and long mantissas
 * whose truncation matters. Bounded work: at most ~100 shifts of ≤ 800 digits (tens of µs at worst), and a
 * read converts only the one number its path names. Allocation-free.
 */

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

/** The f64 nearest to the valid JSON number token at `start` (ties to even), sign from `neg`. */
export function decimalToF64(start: usize, end: usize, neg: bool): f64 {
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

/**
 * The exact conversion alone (Go's decimal.floatBits for float64), for any valid number token;
 * `parseJsonNumber` uses it only when the faster tiers cannot decide. Exported for tests.
 */
export function exactJsonNumber(start: usize, end: usize): f64 {
  return decimalToF64(start, end, start < end && load<u8>(start) == 0x2d);
}
