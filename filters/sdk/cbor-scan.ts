/**
 * @module The CBOR scanner behind `cbor.ts`: checks that a payload is exactly one well-formed data
 * item (RFC 8949 §5.3.1) while locating the value a FieldPath names, in one pass, without
 * allocating. Every length is compared with the bytes left before it is used, so a length such as
 * 0xFFFFFFF0 (or 2^64 − 1) can neither wrap a pointer nor make a loop run long; array and map
 * counts beyond the bytes left are malformed at once (each item takes at least a byte); nesting
 * is bounded by FIELD_MAX_DEPTH; tags are read in a loop, not by recursion.
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

/** Major type of the located value (tags skipped), after a successful `locate`. */
export function valueMajor(): u32 {
  return major;
}

/** Additional information of the located value's head. */
export function valueInfo(): u32 {
  return info;
}

/** Argument of the located value's head: the integer, the float bits, or the length. */
export function valueArg(): u64 {
  return arg;
}

/** Address just after the located value's head (its bytes, for a string). */
export function valueBody(): usize {
  return found;
}

/** Whether `[ptr, ptr + len)` is exactly one well-formed CBOR data item. */
export function validate(ptr: usize, len: usize): bool {
  if (!rangeInMemory(ptr, len)) return false;
  end = ptr + len;
  fail = false;
  const p = skipItem(ptr, 0);
  return !fail && p == end;
}
