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
 * Every length is checked against the bytes left before it is used (`cbor-scan.ts`), so a length
 * such as 0xFFFFFFF0 (or 2^64 − 1) can neither wrap a pointer nor make a loop run long.
 * A read costs ~30–35 ns for a field of a 61-byte cbor-x reading on the 2-vCPU reference machine.
 */

import {
  FIELD_MALFORMED,
  FIELD_OK,
  FIELD_WRONG_TYPE,
  FieldPath,
  FieldText,
  fieldStringEquals,
  packFieldString,
  setFieldStatus,
} from './field';
import { locate, validate, valueArg, valueBody, valueInfo, valueMajor } from './cbor-scan';

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

/** The number the located value's head describes, as f64; sets the status. */
function headF64(): f64 {
  const major = valueMajor();
  const arg = valueArg();
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
    const info = valueInfo();
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
  const major = valueMajor();
  const info = valueInfo();
  const arg = valueArg();
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
  const info = valueInfo();
  if (valueMajor() == 7 && (info == 20 || info == 21)) {
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
  if (valueMajor() == 3 && valueInfo() != 31) {
    setFieldStatus(FIELD_OK);
    return packFieldString(valueBody(), <usize>valueArg());
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
  const ok = validate(ptr, len);
  setFieldStatus(ok ? FIELD_OK : FIELD_MALFORMED);
  return ok;
}
