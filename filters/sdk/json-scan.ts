/**
 * @module The JSON scanner behind `json.ts`: validates a whole payload (RFC 8259 grammar, as
 * `JSON.parse` accepts it) while locating the value a FieldPath names, in one pass, without
 * allocating.
 *
 * Every load is checked against the payload end (`locate` checks that end against wrap-around and
 * the memory size first), every loop advances or stops, and recursion is bounded by
 * FIELD_MAX_DEPTH, so no input traps or hangs. A syntax error sets `fail` and makes every function
 * return `end`, which stops every loop above it.
 *
 * Speed (measured on a ~70-byte reading): per-member overhead dominated, so the member loops keep
 * the current byte in a local, handle compact JSON (no whitespace) without calls, and leave the
 * inlined code only for whitespace, escapes, containers, literals and errors.
 */

import {
  FIELD_MALFORMED,
  FIELD_MAX_DEPTH,
  FIELD_MISSING,
  FIELD_OK,
  FIELD_WRONG_TYPE,
  FieldPath,
  bytesEqual,
  rangeInMemory,
  setFieldStatus,
} from './field';
import { escapedEquals } from './json-string';

const TRUE_U32: u32 = 0x65757274; // "true" little-endian
const NULL_U32: u32 = 0x6c6c756e; // "null"
const ALSE_U32: u32 = 0x65736c61; // "alse"

// State of the current read (one read at a time: a Wasm instance is single-threaded).
let end: usize = 0; // payload end
let fail = false; // a syntax error was found
let found: usize = 0; // start of the value the path names (valid when foundStatus is FIELD_OK)
let foundStatus: i32 = FIELD_MISSING;
let segBytes: usize = 0; // FieldPath.bytes
let segEnds: usize = 0; // FieldPath.ends
let segLast: i32 = 0; // index of the last segment

function syntaxError(): usize {
  fail = true;
  return end;
}

function skipWs(p: usize): usize {
  const e = end;
  while (p < e) {
    const c = <u32>load<u8>(p);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    p++;
  }
  return p;
}

function isHex(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 6;
}

/** From a backslash or control character inside a string to just after the closing quote. */
function scanStringSlow(p: usize): usize {
  const e = end;
  while (p < e) {
    const c = <u32>load<u8>(p);
    if (c == 0x22) return p + 1;
    if (c == 0x5c) {
      if (e - p < 2) break;
      const x = <u32>load<u8>(p + 1);
      if (x == 0x75) {
        if (e - p < 6) break;
        const ok =
          isHex(<u32>load<u8>(p + 2)) &&
          isHex(<u32>load<u8>(p + 3)) &&
          isHex(<u32>load<u8>(p + 4)) &&
          isHex(<u32>load<u8>(p + 5));
        if (!ok) break;
        p += 6;
        continue;
      }
      // \" \\ \/ \b \f \n \r \t
      if (
        x == 0x22 ||
        x == 0x5c ||
        x == 0x2f ||
        x == 0x62 ||
        x == 0x66 ||
        x == 0x6e ||
        x == 0x72 ||
        x == 0x74
      ) {
        p += 2;
        continue;
      }
      break;
    }
    if (c < 0x20) break; // control characters must be escaped
    p++;
  }
  return syntaxError();
}

/**
 * The hot steps, inlined into the member loops (static methods because Prettier's parser rejects
 * `@inline` on plain functions).
 */
class Step {
  /** From just after an opening quote to just after the closing quote. */
  // @ts-ignore: decorator
  @inline static str(p: usize): usize {
    const e = end;
    let q = p;
    let stop: usize = 0;
    while (q < e) {
      const c = <u32>load<u8>(q);
      if (c == 0x22) {
        stop = q + 1;
        break;
      }
      if (c == 0x5c || c < 0x20) break;
      q++;
    }
    return stop != 0 ? stop : scanStringSlow(q);
  }

  /** Skips a number whose first byte `c` is at `p`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. */
  // @ts-ignore: decorator
  @inline static num(p: usize, c: u32): usize {
    const e = end;
    let q = p;
    let ok = true;
    if (c == 0x2d) {
      q++;
      c = q < e ? <u32>load<u8>(q) : 0;
    }
    if (c == 0x30) {
      q++;
    } else if (c - 0x31 < 9) {
      q++;
      while (q < e && <u32>load<u8>(q) - 0x30 < 10) q++;
    } else {
      ok = false;
    }
    if (ok && q < e) {
      c = <u32>load<u8>(q);
      if (c == 0x2e) {
        q++;
        if (q < e && <u32>load<u8>(q) - 0x30 < 10) {
          q++;
          while (q < e && <u32>load<u8>(q) - 0x30 < 10) q++;
          c = q < e ? <u32>load<u8>(q) : 0;
        } else {
          ok = false;
        }
      }
      if (ok && (c | 0x20) == 0x65) {
        q++;
        if (q < e && (load<u8>(q) == 0x2b || load<u8>(q) == 0x2d)) q++;
        if (q < e && <u32>load<u8>(q) - 0x30 < 10) {
          q++;
          while (q < e && <u32>load<u8>(q) - 0x30 < 10) q++;
        } else {
          ok = false;
        }
      }
    }
    return ok ? q : syntaxError();
  }

  /** Skips the value whose first byte `c` is at `p`: strings and numbers inline. */
  // @ts-ignore: decorator
  @inline static value(p: usize, c: u32, depth: i32): usize {
    if (c == 0x22) return Step.str(p + 1);
    if (c - 0x30 < 10 || c == 0x2d) return Step.num(p, c);
    return skipValue(p, depth);
  }
}

/**
 * The members of an object from just after its `{` to just after its `}`. With `seek`, also
 * looks for segment `seg` of the path: the last matching member decides `found` /
 * `foundStatus` (so duplicate keys resolve as in `JSON.parse`), and a nested object on the
 * path is searched in the same pass.
 */
function members(p: usize, depth: i32, seg: i32, seek: bool): usize {
  const e = end;
  let segPtr: usize = 0;
  let segLen: usize = 0;
  if (seek) {
    foundStatus = FIELD_MISSING;
    const segStart = seg == 0 ? <usize>0 : <usize>load<u32>(segEnds + ((<usize>(seg - 1)) << 2));
    segPtr = segBytes + segStart;
    segLen = <usize>load<u32>(segEnds + ((<usize>seg) << 2)) - segStart;
  }
  let result: usize = 0;
  if (depth <= FIELD_MAX_DEPTH && p < e) {
    let c = <u32>load<u8>(p);
    if (c <= 0x20) {
      p = skipWs(p);
      c = p < e ? <u32>load<u8>(p) : 0;
    }
    if (c == 0x7d) {
      result = p + 1;
      c = 0;
    }
    while (c == 0x22) {
      // The key: compared raw, or decoded when it holds an escape.
      const key = p + 1;
      let q = key;
      let close: usize = 0;
      while (q < e) {
        const k = <u32>load<u8>(q);
        if (k == 0x22) {
          close = q;
          break;
        }
        if (k == 0x5c || k < 0x20) break;
        q++;
      }
      let match = false;
      if (close != 0) {
        p = close + 1;
        if (seek) match = close - key == segLen && bytesEqual(key, segPtr, segLen);
      } else {
        p = scanStringSlow(q);
        if (fail) break;
        if (seek) match = escapedEquals(key, p - 1 - key, segPtr, segLen);
      }
      if (p >= e) break;
      c = <u32>load<u8>(p);
      if (c != 0x3a) {
        p = skipWs(p);
        if (p >= e || load<u8>(p) != 0x3a) break;
      }
      p++;
      if (p >= e) break;
      c = <u32>load<u8>(p);
      if (c <= 0x20) {
        p = skipWs(p);
        if (p >= e) break;
        c = <u32>load<u8>(p);
      }
      if (!match) {
        p = Step.value(p, c, depth);
      } else {
        p = onPath(p, c, depth, seg);
      }
      if (p >= e) break;
      c = <u32>load<u8>(p);
      if (c <= 0x20) {
        p = skipWs(p);
        if (p >= e) break;
        c = <u32>load<u8>(p);
      }
      if (c == 0x2c) {
        p++;
        if (p >= e) break;
        c = <u32>load<u8>(p);
        if (c <= 0x20) {
          p = skipWs(p);
          if (p >= e) break;
          c = <u32>load<u8>(p);
        }
        continue;
      }
      if (c == 0x7d) result = p + 1;
      break;
    }
  }
  return result != 0 ? result : syntaxError();
}

/** Handles the value of a member whose key matches segment `seg`; returns just after it. */
function onPath(p: usize, c: u32, depth: i32, seg: i32): usize {
  if (seg == segLast) {
    found = p;
    foundStatus = FIELD_OK;
    return skipValue(p, depth);
  }
  if (c == 0x7b) return findInObject(p + 1, depth + 1, seg + 1);
  foundStatus = FIELD_WRONG_TYPE; // the path continues through a non-object
  return skipValue(p, depth);
}

/** Skips one value starting at `p` (no leading whitespace); `depth` counts open containers. */
function skipValue(p: usize, depth: i32): usize {
  const e = end;
  if (p < e) {
    const c = <u32>load<u8>(p);
    if (c == 0x22) return Step.str(p + 1);
    if (c - 0x30 < 10 || c == 0x2d) return Step.num(p, c);
    if (c == 0x7b) return skipObject(p + 1, depth + 1);
    if (c == 0x5b) return skipArray(p + 1, depth + 1);
    if (c == 0x74) {
      if (e - p >= 4 && load<u32>(p) == TRUE_U32) return p + 4;
    } else if (c == 0x66) {
      if (e - p >= 5 && load<u32>(p + 1) == ALSE_U32) return p + 5;
    } else if (c == 0x6e) {
      if (e - p >= 4 && load<u32>(p) == NULL_U32) return p + 4;
    }
  }
  return syntaxError();
}

/** From just after `{` to just after the matching `}`. */
function skipObject(p: usize, depth: i32): usize {
  return members(p, depth, 0, false);
}

/** Searches the object whose `{` precedes `p` for segment `seg`; returns just after its `}`. */
function findInObject(p: usize, depth: i32, seg: i32): usize {
  return members(p, depth, seg, true);
}

/** From just after `[` to just after the matching `]`. */
function skipArray(p: usize, depth: i32): usize {
  const e = end;
  if (depth <= FIELD_MAX_DEPTH) {
    p = skipWs(p);
    if (p < e && load<u8>(p) == 0x5d) return p + 1;
    while (p < e) {
      p = skipWs(Step.value(p, <u32>load<u8>(p), depth));
      if (p >= e) break;
      const c = load<u8>(p);
      if (c == 0x5d) return p + 1;
      if (c != 0x2c) break;
      p = skipWs(p + 1);
    }
  }
  return syntaxError();
}

/**
 * Scans the whole payload at `[ptr, ptr + len)` for `path`. True when the payload is valid JSON
 * and the path names a value (see `foundValue`); otherwise the field status is already set.
 */
export function locate(ptr: usize, len: usize, path: FieldPath): bool {
  if (!rangeInMemory(ptr, len)) {
    setFieldStatus(FIELD_MALFORMED);
    return false;
  }
  end = ptr + len;
  fail = false;
  segBytes = changetype<usize>(path.bytes);
  segEnds = changetype<usize>(path.ends);
  segLast = path.count - 1;
  let p = skipWs(ptr);
  if (path.count == 0) {
    found = p;
    foundStatus = FIELD_OK;
    p = skipValue(p, 0);
  } else if (p < end && load<u8>(p) == 0x7b) {
    p = findInObject(p + 1, 1, 0);
  } else {
    foundStatus = FIELD_WRONG_TYPE;
    p = skipValue(p, 0);
  }
  p = skipWs(p);
  if (fail || p != end) {
    setFieldStatus(FIELD_MALFORMED);
    return false;
  }
  if (foundStatus != FIELD_OK) {
    setFieldStatus(foundStatus);
    return false;
  }
  return true;
}

/** Address of the value the last successful `locate` found (its first byte). */
export function foundValue(): usize {
  return found;
}

/** End of the payload of the last `locate` / `validate`. */
export function payloadEnd(): usize {
  return end;
}

/** Just after the closing quote of the string whose opening quote is at `p` (a located value). */
export function stringEnd(p: usize): usize {
  return Step.str(p + 1);
}

/** Whether `[ptr, ptr + len)` is exactly one JSON value, surrounded by whitespace at most. */
export function validate(ptr: usize, len: usize): bool {
  if (!rangeInMemory(ptr, len)) return false;
  end = ptr + len;
  fail = false;
  const p = skipWs(skipValue(skipWs(ptr), 0));
  return !fail && p == end;
}
