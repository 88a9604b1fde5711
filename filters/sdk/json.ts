/**
 * @module Allocation-free JSON field reader: looks up one field of a JSON payload lying at
 * `[ptr, ptr + len)` in linear memory and reads it as f64, i64, bool or a raw string location.
 *
 * Semantics are those of `JSON.parse` on the payload decoded as UTF-8:
 * - the whole payload is checked (RFC 8259 grammar, only space/tab/LF/CR as whitespace, no
 *   trailing bytes); a read from a payload `JSON.parse` rejects reports FIELD_MALFORMED;
 * - duplicate keys: the last one wins (so every object on the path is scanned to its end);
 * - keys are compared after unescaping: bytes are compared directly, and only a key that
 *   contains a backslash is decoded (`\uXXXX`, surrogate pairs) while comparing;
 * - numbers convert to exactly the f64 `JSON.parse` returns (see `json-number.ts`); `-0` is -0;
 *   leading zeros, `1.`, `.5`, `+1`, `NaN`, `Infinity` are malformed.
 * Deviations: nesting deeper than FIELD_MAX_DEPTH (128) is reported malformed (`JSON.parse`
 * accepts a few thousand levels); bytes that are not valid UTF-8 are accepted inside strings
 * (`TextDecoder` would turn them into U+FFFD, which `JSON.parse` accepts as well) but such a key
 * only matches a path with the same raw bytes.
 *
 * Reads never trap and never loop: every load is bounds-checked against the payload end, which is
 * itself checked against wrap-around and the memory size; recursion is bounded by the depth.
 * Each read scans the whole payload once (`json-scan.ts`): ~45–55 ns for a field of a 70-byte
 * reading on the 2-vCPU reference machine (test/filters/readers-bench.test.ts).
 */

import {
  FIELD_MALFORMED,
  FIELD_OK,
  FIELD_WRONG_TYPE,
  FieldPath,
  FieldText,
  fieldStringLength,
  fieldStringPtr,
  packFieldString,
  rangeInMemory,
  setFieldStatus,
} from './field';
import { jsonI64Ok, parseJsonI64, parseJsonNumber } from './json-number';
import { foundValue, locate, payloadEnd, stringEnd, validate } from './json-scan';
import { escapedEquals } from './json-string';

function isNumberStart(c: u32): bool {
  return c - 0x30 < 10 || c == 0x2d;
}

/**
 * Reads the number at `path`: exactly the f64 `JSON.parse` gives. NaN when the status is not
 * FIELD_OK (a JSON number is never NaN).
 */
export function jsonF64(ptr: usize, len: usize, path: FieldPath): f64 {
  if (!locate(ptr, len, path)) return NaN;
  if (!isNumberStart(<u32>load<u8>(foundValue()))) {
    setFieldStatus(FIELD_WRONG_TYPE);
    return NaN;
  }
  setFieldStatus(FIELD_OK);
  return parseJsonNumber(foundValue(), payloadEnd());
}

/**
 * Reads the integer at `path`; 0 when the status is not FIELD_OK. A number written without
 * fraction or exponent is read exactly over the whole i64 range (above 2^53 this is more precise
 * than `JSON.parse`) and is FIELD_WRONG_TYPE beyond it; any other number must have an integral
 * f64 value within ±2^63 (`1.0`, `1e3`), else the status is FIELD_WRONG_TYPE (`1.5`, `1e30`).
 */
export function jsonI64(ptr: usize, len: usize, path: FieldPath): i64 {
  if (!locate(ptr, len, path)) return 0;
  if (!isNumberStart(<u32>load<u8>(foundValue()))) {
    setFieldStatus(FIELD_WRONG_TYPE);
    return 0;
  }
  const v = parseJsonI64(foundValue(), payloadEnd());
  setFieldStatus(jsonI64Ok() ? FIELD_OK : FIELD_WRONG_TYPE);
  return v;
}

/** Reads `true` / `false` at `path`; false when the status is not FIELD_OK (`null` is WRONG_TYPE). */
export function jsonBool(ptr: usize, len: usize, path: FieldPath): bool {
  if (!locate(ptr, len, path)) return false;
  const c = load<u8>(foundValue());
  if (c == 0x74 || c == 0x66) {
    setFieldStatus(FIELD_OK);
    return c == 0x74;
  }
  setFieldStatus(FIELD_WRONG_TYPE);
  return false;
}

/**
 * Locates the string at `path`: `ptr << 32 | byteLength` of its raw bytes between the quotes,
 * escapes not decoded (see `fieldStringPtr`, `fieldStringLength`, `jsonStringEquals`); 0 when
 * the status is not FIELD_OK.
 */
export function jsonString(ptr: usize, len: usize, path: FieldPath): u64 {
  if (!locate(ptr, len, path)) return 0;
  if (load<u8>(foundValue()) != 0x22) {
    setFieldStatus(FIELD_WRONG_TYPE);
    return 0;
  }
  const start = foundValue() + 1;
  const stop = stringEnd(foundValue()) - 1;
  setFieldStatus(FIELD_OK);
  return packFieldString(start, stop - start);
}

/**
 * Whether a string returned by `jsonString` equals `text` after decoding its escapes
 * (`"caf\u00e9"` equals "café"). False for a location outside memory.
 */
export function jsonStringEquals(packed: u64, text: FieldText): bool {
  const p = fieldStringPtr(packed);
  const n = fieldStringLength(packed);
  if (!rangeInMemory(p, n)) return false;
  return escapedEquals(p, n, text.ptr, text.length);
}

/** Full syntax check of a payload: true exactly when `JSON.parse` accepts it (up to the depth bound). */
export function jsonValidate(ptr: usize, len: usize): bool {
  const ok = validate(ptr, len);
  setFieldStatus(ok ? FIELD_OK : FIELD_MALFORMED);
  return ok;
}
