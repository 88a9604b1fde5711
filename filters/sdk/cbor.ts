/**
 * @module Allocation-free CBOR (RFC 8949) field reader: looks up one field of a CBOR payload lying
 * at `[ptr, ptr + len)` in linear memory and reads it as f64, i64, bool or a raw text location.
 *
 * - The payload must be exactly one well-formed data item (RFC 8949 §5.3.1: reserved additional
 *   info 28–30, truncated items, a break outside an indefinite-length item, chunks of another type
 *   inside an indefinite-length string, and two-byte simple values below 32 are malformed);
 *   trailing bytes are malformed, as in cbor-x's `decode`. Text is not checked for valid UTF-8.
 * - Paths walk maps by text keys (definite or indefinite-length); keys of other types never
 *   match. Duplicate keys: the last one wins, as with cbor-x decoding into an object.
 * - Indefinite-length arrays, maps, byte and text strings are supported everywhere. `cborString`
 *   reports FIELD_WRONG_TYPE for an indefinite-length (chunked) text value, whose bytes are not
 *   contiguous.
 * - Tags are skipped over, on values and on maps along the path (tag 1 around an epoch time reads
 *   as its number). Bignums (tags 2 and 3) are byte strings, hence FIELD_WRONG_TYPE for numbers.
 * - Numbers: unsigned and negative integers up to 64 bits, half, single and double floats.
 * - Nesting deeper than FIELD_MAX_DEPTH (128) arrays/maps is malformed.
 * Every length is checked against the bytes left before it is used, so a length such as
 * 0xFFFFFFF0 (or 2^64 − 1) can neither wrap a pointer nor make a loop run long.
 */

import {
  FIELD_MALFORMED,
  FIELD_MAX_DEPTH,
  FIELD_MISSING,
  FIELD_OK,
  FIELD_WRONG_TYPE,
  FieldPath,
  FieldText,
  bytesEqual,
  fieldStringEquals,
  packFieldString,
  rangeInMemory,
  setFieldStatus,
} from './field';

// Reader state of the current read.
let end: usize = 0;
let fail = false; // not well-formed; every function then returns `end`
let major: u32 = 0; // of the last head read
let info: u32 = 0; // additional information of the last head read
let arg: u64 = 0; // argument of the last head read (0 for indefinite lengths)
let found: usize = 0; // head of the value the path names (valid when foundStatus is FIELD_OK)
let foundStatus: i32 = FIELD_MISSING;
let segBytes: usize = 0;
let segEnds: usize = 0;
let segLast: i32 = 0;
let keyMatch = false;

function malformed(): usize {
  fail = true;
  return end;
}

/** Reads the initial byte and argument at `p` into major / info / arg; returns what follows. */
function readHead(p: usize): usize {
  const e = end;
  if (p >= e) return malformed();
  const b = <u32>load<u8>(p);
  p++;
  major = b >> 5;
  info = b & 0x1f;
  if (info < 24) {
    arg = <u64>info;
    return p;
  }
  const left = e - p;
  if (info == 24) {
    if (left < 1) return malformed();
    arg = <u64>load<u8>(p);
    return p + 1;
  }
  if (info == 25) {
    if (left < 2) return malformed();
    arg = <u64>bswap<u16>(load<u16>(p));
    return p + 2;
  }
  if (info == 26) {
    if (left < 4) return malformed();
    arg = <u64>bswap<u32>(load<u32>(p));
    return p + 4;
  }
  if (info == 27) {
    if (left < 8) return malformed();
    arg = bswap<u64>(load<u64>(p));
    return p + 8;
  }
  if (info == 31 && major >= 2 && major != 6) {
    arg = 0; // indefinite length (majors 2–5), or a break (major 7), handled by the caller
    return p;
  }
  return malformed(); // 28–30 reserved; 31 on integers and tags
}

/** Reads heads at `p` until one is not a tag; returns what follows that head. */
function readUntaggedHead(p: usize): usize {
  p = readHead(p);
  while (major == 6 && !fail) p = readHead(p);
  return p;
}

/** Skips the payload of a definite-length string whose head was just read. */
function skipBytes(p: usize): usize {
  if (arg > <u64>(end - p)) return malformed();
  return p + <usize>arg;
}

/** Skips the chunks of an indefinite-length string of major type `m`, through the break. */
function skipChunks(p: usize, m: u32): usize {
  const e = end;
  while (p < e) {
    if (load<u8>(p) == 0xff) return p + 1;
    p = readHead(p);
    if (fail || major != m || info == 31) return malformed();
    p = skipBytes(p);
  }
  return malformed();
}

/** Skips one data item at `p`; `depth` counts the arrays and maps it is in. */
function skipItem(p: usize, depth: i32): usize {
  p = readUntaggedHead(p);
  if (fail) return end;
  const m = major;
  if (m <= 1) return p;
  if (m <= 3) return info == 31 ? skipChunks(p, m) : skipBytes(p);
  if (m == 7) {
    if (info == 31) return malformed(); // break outside an indefinite-length item
    if (info == 24 && arg < 32) return malformed();
    return p;
  }
  // Arrays (4) and maps (5).
  if (depth >= FIELD_MAX_DEPTH) return malformed();
  const e = end;
  if (info == 31) {
    while (p < e) {
      if (load<u8>(p) == 0xff) return p + 1;
      p = Step.item(p, depth + 1);
      if (m == 5) p = Step.item(p, depth + 1);
    }
    return malformed();
  }
  // Each item takes at least one byte: a count beyond the bytes left is malformed at once.
  let n = arg;
  if (n > <u64>(e - p)) return malformed();
  if (m == 5) {
    if (n > (<u64>(e - p)) >> 1) return malformed();
    n <<= 1;
  }
  while (n > 0 && !fail) {
    p = Step.item(p, depth + 1);
    n--;
  }
  return fail ? end : p;
}

/**
 * The hot steps, inlined into the loops (static methods because Prettier's parser rejects
 * `@inline` on plain functions): integers, floats, simple values and short strings are skipped
 * without a call; everything else goes through `skipItem`.
 */
class Step {
  // @ts-ignore: decorator
  @inline static item(p: usize, depth: i32): usize {
    const e = end;
    let q: usize = 0;
    if (p < e) {
      const b = <u32>load<u8>(p);
      const ai = b & 0x1f;
      if (b < 0x40) {
        // unsigned and negative integers
        if (ai < 24) q = p + 1;
        else if (ai < 28) {
          const n = (<usize>1) << (ai - 24);
          if (e - p > n) q = p + 1 + n;
        }
      } else if (b < 0x80) {
        // byte and text strings of up to 23 bytes
        if (ai < 24 && e - p > <usize>ai) q = p + 1 + <usize>ai;
      } else if (b >= 0xf4) {
        if (b <= 0xf7)
          q = p + 1; // false, true, null, undefined
        else if (b >= 0xf9 && b <= 0xfb) {
          const n = (<usize>1) << (b - 0xf8); // half, single, double
          if (e - p > n) q = p + 1 + n;
        }
      }
    }
    return q != 0 ? q : skipItem(p, depth);
  }
}

/** Reads a map key at `p` and sets `keyMatch` when it is text equal to `[s, s + sLen)`. */
function readKey(p: usize, depth: i32, s: usize, sLen: usize): usize {
  keyMatch = false;
  const e = end;
  if (p >= e) return malformed();
  if ((<u32>load<u8>(p)) >> 5 != 3) return skipItem(p, depth);
  p = readHead(p);
  if (fail) return end;
  if (info != 31) {
    const q = skipBytes(p);
    if (!fail) keyMatch = arg == <u64>sLen && bytesEqual(p, s, sLen);
    return q;
  }
  // Indefinite-length text key: compare chunk by chunk.
  let off: usize = 0;
  let same = true;
  while (p < e) {
    if (load<u8>(p) == 0xff) {
      keyMatch = same && off == sLen;
      return p + 1;
    }
    p = readHead(p);
    if (fail || major != 3 || info == 31) return malformed();
    const start = p;
    p = skipBytes(p);
    if (fail) return end;
    const n = <usize>arg;
    if (same) {
      if (n > sLen - off) same = false;
      else {
        same = bytesEqual(start, s + off, n);
        off += n;
      }
    }
  }
  return malformed();
}

/**
 * Scans the map whose head was just read (`arg` pairs, or indefinite when `indefinite`) for
 * segment `seg`; the last matching key decides `found` / `foundStatus`.
 */
function findInMap(p: usize, indefinite: bool, count: u64, depth: i32, seg: i32): usize {
  foundStatus = FIELD_MISSING;
  if (depth > FIELD_MAX_DEPTH) return malformed();
  const e = end;
  if (!indefinite && count > (<u64>(e - p)) >> 1) return malformed();
  const segStart = seg == 0 ? <usize>0 : <usize>load<u32>(segEnds + ((<usize>(seg - 1)) << 2));
  const segPtr = segBytes + segStart;
  const segLen = <usize>load<u32>(segEnds + ((<usize>seg) << 2)) - segStart;
  let n = count;
  while (!fail) {
    if (indefinite) {
      if (p >= e) return malformed();
      if (load<u8>(p) == 0xff) return p + 1;
    } else {
      if (n == 0) return p;
      n--;
    }
    if (p >= e) return malformed();
    const b = <u32>load<u8>(p);
    let match = false;
    if (b - 0x60 < 24) {
      // a definite text key of up to 23 bytes, inline
      const n = <usize>(b - 0x60);
      p++;
      if (n > e - p) return malformed();
      match = n == segLen && bytesEqual(p, segPtr, n);
      p += n;
    } else {
      p = readKey(p, depth, segPtr, segLen);
      if (fail) break;
      match = keyMatch;
    }
    if (!match) {
      p = Step.item(p, depth);
    } else if (seg == segLast) {
      found = p;
      foundStatus = FIELD_OK;
      p = Step.item(p, depth);
    } else {
      const value = p;
      const q = readUntaggedHead(p);
      if (fail) break;
      if (major == 5) {
        p = findInMap(q, info == 31, arg, depth + 1, seg + 1);
      } else {
        foundStatus = FIELD_WRONG_TYPE; // the path continues through a non-map
        p = skipItem(value, depth);
      }
    }
  }
  return end;
}

/**
 * Scans the whole payload for `path`. True when the payload is well-formed and the path names a
 * value; then `major` / `info` / `arg` describe it (tags skipped) and `found` is past its head.
 */
function locate(ptr: usize, len: usize, path: FieldPath): bool {
  if (!rangeInMemory(ptr, len)) {
    setFieldStatus(FIELD_MALFORMED);
    return false;
  }
  end = ptr + len;
  fail = false;
  segBytes = changetype<usize>(path.bytes);
  segEnds = changetype<usize>(path.ends);
  segLast = path.count - 1;
  let p: usize;
  if (path.count == 0) {
    found = ptr;
    foundStatus = FIELD_OK;
    p = skipItem(ptr, 0);
  } else {
    const q = readUntaggedHead(ptr);
    if (!fail && major == 5) {
      p = findInMap(q, info == 31, arg, 1, 0);
    } else {
      foundStatus = FIELD_WRONG_TYPE;
      p = skipItem(ptr, 0);
    }
  }
  if (fail || p != end) {
    setFieldStatus(FIELD_MALFORMED);
    return false;
  }
  if (foundStatus != FIELD_OK) {
    setFieldStatus(foundStatus);
    return false;
  }
  found = readUntaggedHead(found);
  return true;
}

/** IEEE 754 half-precision bits to f64 (exact). */
function halfToF64(h: u32): f64 {
  const exp = (h >> 10) & 0x1f;
  const mant = <f64>(h & 0x3ff);
  let v: f64;
  if (exp == 0)
    v = mant * 5.9604644775390625e-8; // 2^-24
  else if (exp == 31) v = mant == 0 ? Infinity : NaN;
  else v = (mant + 1024) * reinterpret<f64>((<u64>(exp - 25 + 1023)) << 52); // exact 2^(exp-25)
  return h & 0x8000 ? -v : v;
}

/** The number described by the last head as f64; sets the status. */
function headF64(): f64 {
  if (major == 0) {
    setFieldStatus(FIELD_OK);
    return <f64>arg;
  }
  if (major == 1) {
    setFieldStatus(FIELD_OK);
    const n = arg + 1; // -1 - arg; 2^64 when arg is 2^64 - 1
    return n == 0 ? -18446744073709551616.0 : -(<f64>n);
  }
  if (major == 7) {
    setFieldStatus(FIELD_OK);
    if (info == 25) return halfToF64(<u32>arg);
    if (info == 26) return <f64>reinterpret<f32>(<u32>arg);
    if (info == 27) return reinterpret<f64>(arg);
  }
  setFieldStatus(FIELD_WRONG_TYPE);
  return NaN;
}

/**
 * Reads the number at `path` as f64: integers convert with correct rounding (exact up to 2^53),
 * half and single floats widen exactly. NaN when the status is not FIELD_OK (or the float is NaN).
 */
export function cborF64(ptr: usize, len: usize, path: FieldPath): f64 {
  if (!locate(ptr, len, path)) return NaN;
  return headF64();
}

/**
 * Reads the integer at `path`; 0 when the status is not FIELD_OK. Integers are exact over the
 * i64 range (larger ones are FIELD_WRONG_TYPE); floats must be integral and within ±2^63 (cbor-x
 * writes integers beyond 32 bits, such as millisecond timestamps, as float64).
 */
export function cborI64(ptr: usize, len: usize, path: FieldPath): i64 {
  if (!locate(ptr, len, path)) return 0;
  if (major == 0 && arg <= <u64>i64.MAX_VALUE) {
    setFieldStatus(FIELD_OK);
    return <i64>arg;
  }
  if (major == 1 && arg <= <u64>i64.MAX_VALUE) {
    setFieldStatus(FIELD_OK);
    return -1 - <i64>arg;
  }
  if (major == 7 && info >= 25 && info <= 27) {
    const f = headF64();
    if (f == Math.trunc(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0) {
      setFieldStatus(FIELD_OK);
      return <i64>f;
    }
  }
  setFieldStatus(FIELD_WRONG_TYPE);
  return 0;
}

/** Reads `true` / `false` at `path`; false when the status is not FIELD_OK (null is WRONG_TYPE). */
export function cborBool(ptr: usize, len: usize, path: FieldPath): bool {
  if (!locate(ptr, len, path)) return false;
  if (major == 7 && (info == 20 || info == 21)) {
    setFieldStatus(FIELD_OK);
    return info == 21;
  }
  setFieldStatus(FIELD_WRONG_TYPE);
  return false;
}

/**
 * Locates the text string at `path`: `ptr << 32 | byteLength` of its UTF-8 bytes (see
 * `fieldStringPtr`, `fieldStringLength`, `cborStringEquals`); 0 when the status is not FIELD_OK.
 * An indefinite-length (chunked) text string is FIELD_WRONG_TYPE.
 */
export function cborString(ptr: usize, len: usize, path: FieldPath): u64 {
  if (!locate(ptr, len, path)) return 0;
  if (major == 3 && info != 31) {
    setFieldStatus(FIELD_OK);
    return packFieldString(found, <usize>arg);
  }
  setFieldStatus(FIELD_WRONG_TYPE);
  return 0;
}

/** Whether a string returned by `cborString` equals `text` (CBOR text has no escapes). */
export function cborStringEquals(packed: u64, text: FieldText): bool {
  return fieldStringEquals(packed, text);
}

/** Whether the payload is exactly one well-formed CBOR data item. */
export function cborValidate(ptr: usize, len: usize): bool {
  if (!rangeInMemory(ptr, len)) {
    setFieldStatus(FIELD_MALFORMED);
    return false;
  }
  end = ptr + len;
  fail = false;
  const p = skipItem(ptr, 0);
  const ok = !fail && p == end;
  setFieldStatus(ok ? FIELD_OK : FIELD_MALFORMED);
  return ok;
}
