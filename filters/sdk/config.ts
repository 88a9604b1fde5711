/**
 * @module `Config`: the rule's parameters, a CBOR map the host passes to `init`, with typed
 * getters and defaults: `cfg.f64("min", -40)`, `cfg.str("field", "temp")`. A missing key gives
 * the default; a key of the wrong type records an error naming the key, the value and what was
 * expected, and `init` returns it (the rule is not started). Read everything in `init`: lookups
 * allocate.
 */

import { cborBool, cborF64, cborI64, cborString, cborValidate } from './cbor';
import {
  FIELD_MALFORMED,
  FIELD_MISSING,
  FIELD_OK,
  FieldPath,
  fieldStatus,
  fieldStringLength,
  fieldStringPtr,
} from './field';

/** Rule parameters (a CBOR map with text keys), read once in `init`. */
export class Config {
  private _ptr: usize;
  private _len: usize;
  /** The first problem found (null if none); `init` fails with it. */
  error: string | null = null;

  /** Wraps the CBOR bytes at `[ptr, ptr + len)`; zero bytes are an empty map. */
  constructor(ptr: usize, len: usize) {
    this._ptr = ptr;
    this._len = len;
    if (len == 0) {
      // No parameters: every getter returns its default.
    } else if (!cborValidate(ptr, len)) {
      this.fail('config is not well-formed CBOR (expected a map of parameters)');
    } else if ((load<u8>(ptr) & 0xe0) != 0xa0) {
      this.fail(
        'config is ' + describe(ptr, len, new FieldPath('')) + ', expected a map of parameters',
      );
    }
  }

  /** Records a problem; the first one wins and `init` returns it. Use it for rule-specific checks. */
  fail(message: string): void {
    if (this.error === null) this.error = message;
  }

  /** Whether the map has `key` (with any value, null included). */
  has(key: string): bool {
    if (this._len == 0 || this.error !== null) return false;
    const path = new FieldPath(key);
    cborBool(this._ptr, this._len, path);
    return fieldStatus() != FIELD_MISSING;
  }

  /** The number at `key` (an integer or a float), or `fallback` when absent. */
  f64(key: string, fallback: f64): f64 {
    if (this._len == 0 || this.error !== null) return fallback;
    const path = new FieldPath(key);
    const v = cborF64(this._ptr, this._len, path);
    return this.check(key, path, 'a number') ? v : fallback;
  }

  /** The integer at `key`, or `fallback` when absent. */
  i64(key: string, fallback: i64): i64 {
    if (this._len == 0 || this.error !== null) return fallback;
    const path = new FieldPath(key);
    const v = cborI64(this._ptr, this._len, path);
    return this.check(key, path, 'an integer') ? v : fallback;
  }

  /** The boolean at `key`, or `fallback` when absent. */
  bool(key: string, fallback: bool): bool {
    if (this._len == 0 || this.error !== null) return fallback;
    const path = new FieldPath(key);
    const v = cborBool(this._ptr, this._len, path);
    return this.check(key, path, 'a boolean') ? v : fallback;
  }

  /** The string at `key`, or `fallback` when absent. */
  str(key: string, fallback: string): string {
    if (this._len == 0 || this.error !== null) return fallback;
    const path = new FieldPath(key);
    const v = cborString(this._ptr, this._len, path);
    if (!this.check(key, path, 'a string')) return fallback;
    return String.UTF8.decodeUnsafe(fieldStringPtr(v), fieldStringLength(v));
  }

  /** True when the last read found a value; records an error for a wrong type. */
  private check(key: string, path: FieldPath, expected: string): bool {
    const status = fieldStatus();
    if (status == FIELD_OK) return true;
    if (status == FIELD_MISSING) return false;
    if (status == FIELD_MALFORMED) {
      this.fail('config is not well-formed CBOR');
    } else {
      this.fail(
        'config.' +
          key +
          ': got ' +
          describe(this._ptr, this._len, path) +
          ', expected ' +
          expected,
      );
    }
    return false;
  }
}

/** Describes the value at `path` for an error message: its type and, when short, its value. */
function describe(ptr: usize, len: usize, path: FieldPath): string {
  const s = cborString(ptr, len, path);
  if (fieldStatus() == FIELD_OK) {
    const n = fieldStringLength(s);
    const text = String.UTF8.decodeUnsafe(fieldStringPtr(s), n < 64 ? n : 64);
    return 'the string "' + text + (n > 64 ? '…"' : '"');
  }
  const b = cborBool(ptr, len, path);
  if (fieldStatus() == FIELD_OK) return 'the boolean ' + (b ? 'true' : 'false');
  const f = cborF64(ptr, len, path);
  if (fieldStatus() == FIELD_OK) {
    const exact = Math.abs(f) < 9007199254740992.0 && Math.trunc(f) == f;
    return 'the number ' + (exact ? (<i64>f).toString() : f.toString());
  }
  if (path.count > 0 || len == 0) {
    // Not a string, boolean or number: name the CBOR major type of the value.
    return 'a value that is not a string, number or boolean (a map, array, null or tagged value)';
  }
  return cborTypeName(load<u8>(ptr));
}

/** Name of the CBOR item that starts with `initial` (the root only). */
function cborTypeName(initial: u8): string {
  const major = initial >> 5;
  if (major <= 1) return 'an integer';
  if (major == 2) return 'a byte string';
  if (major == 3) return 'a string';
  if (major == 4) return 'an array';
  if (major == 5) return 'a map';
  if (major == 6) return 'a tagged value';
  if (initial == 0xf4 || initial == 0xf5) return 'a boolean';
  if (initial == 0xf6) return 'null';
  if (initial == 0xf7) return 'undefined';
  return 'a number';
}
