/**
 * @module Writing JSON text into a `ByteBuffer` without allocating: numbers that round-trip
 * exactly through `JSON.parse`, and escaped strings from AssemblyScript strings or raw UTF-8.
 */

import { dtoa_buffered, itoa_buffered } from 'util/number';
import { ByteBuffer } from './byte-buffer';

// UTF-16 scratch for the number formatters (dtoa needs at most 28 code units).
const digits = memory.data(64);

/** 2^53: integral doubles below it are written as plain integers. */
const EXACT_INTEGER_LIMIT: f64 = 9007199254740992.0;

/** Narrows `n` UTF-16 code units (ASCII) from the scratch area into the buffer. */
function narrow(buf: ByteBuffer, n: u32): void {
  const p = buf.reserve(n);
  for (let i: u32 = 0; i < n; i++) {
    store<u8>(p + <usize>i, <u8>load<u16>(digits + ((<usize>i) << 1)));
  }
  buf.len += n;
}

/** Writes a signed integer in decimal. */
export function writeJsonInt(buf: ByteBuffer, value: i64): void {
  narrow(buf, itoa_buffered<i64>(digits, value));
}

/** Writes an unsigned integer in decimal. */
export function writeJsonUint(buf: ByteBuffer, value: u64): void {
  narrow(buf, itoa_buffered<u64>(digits, value));
}

/**
 * Writes a double so that `JSON.parse` gives back exactly the same double: integral values
 * below 2^53 as integers (`21`), `-0` as `-0`, others in AssemblyScript's shortest-digits form
 * (Grisu2: always round-trips, test/filters/json-numbers.test.ts). NaN and ±Infinity have no
 * JSON form and are written as `null`.
 */
export function writeJsonNumber(buf: ByteBuffer, value: f64): void {
  if (!isFinite(value)) {
    const p = buf.reserve(4);
    store<u32>(p, 0x6c6c756e); // "null"
    buf.len += 4;
    return;
  }
  if (value == 0) {
    if (reinterpret<u64>(value) != 0) {
      buf.u16(0x302d); // "-0"
    } else {
      buf.u8(0x30);
    }
    return;
  }
  if (Math.abs(value) < EXACT_INTEGER_LIMIT && Math.trunc(value) == value) {
    writeJsonInt(buf, <i64>value);
    return;
  }
  narrow(buf, dtoa_buffered<f64>(digits, value));
}

/** Hex digits for \u00XX escapes. */
function hexDigit(v: u32): u32 {
  return v < 10 ? 0x30 + v : 0x57 + v;
}

/** Writes byte `c` (< 0x80) JSON-escaped if it must be. */
function writeEscapedAscii(buf: ByteBuffer, c: u32): void {
  if (c == 0x22 || c == 0x5c) {
    buf.u16(0x5c | (c << 8));
  } else if (c >= 0x20) {
    buf.u8(c);
  } else if (c == 0x0a) {
    buf.u16(0x6e5c); // \n
  } else if (c == 0x0d) {
    buf.u16(0x725c); // \r
  } else if (c == 0x09) {
    buf.u16(0x745c); // \t
  } else {
    buf.u32(0x3030755c); // \u00
    buf.u16(hexDigit(c >> 4) | (hexDigit(c & 15) << 8));
  }
}

/** Writes raw UTF-8 bytes as a quoted, escaped JSON string (bytes ≥ 0x80 pass through). */
export function writeJsonBytes(buf: ByteBuffer, ptr: usize, len: usize): void {
  buf.u8(0x22);
  // Fast path: copy runs of bytes that need no escape in one go.
  let run = ptr;
  const end = ptr + len;
  for (let p = ptr; p < end; p++) {
    const c = <u32>load<u8>(p);
    if (c < 0x20 || c == 0x22 || c == 0x5c) {
      if (p > run) buf.bytes(run, <u32>(p - run));
      writeEscapedAscii(buf, c);
      run = p + 1;
    }
  }
  if (end > run) buf.bytes(run, <u32>(end - run));
  buf.u8(0x22);
}

/** Writes a string as a quoted, escaped JSON string (UTF-8; lone surrogates become U+FFFD). */
export function writeJsonString(buf: ByteBuffer, s: string): void {
  const n = <u32>s.length;
  const base = changetype<usize>(s);
  // Fast path, one pass: ASCII that needs no escape is narrowed straight into the buffer.
  const start = buf.len;
  const p = buf.reserve(n + 2);
  store<u8>(p, 0x22);
  let i: u32 = 0;
  for (; i < n; i++) {
    const c = <u32>load<u16>(base + ((<usize>i) << 1));
    if (c >= 0x80 || c < 0x20 || c == 0x22 || c == 0x5c) break;
    store<u8>(p + 1 + <usize>i, <u8>c);
  }
  if (i == n) {
    store<u8>(p + 1 + <usize>n, 0x22);
    buf.len = start + n + 2;
    return;
  }
  // Rare: encode to UTF-8 first (at the end of the buffer), then escape while copying.
  buf.len = start;
  const written = buf.utf8(s);
  const tmp = heap.alloc(<usize>written);
  memory.copy(tmp, buf.ptr + <usize>start, <usize>written);
  buf.len = start;
  writeJsonBytes(buf, tmp, <usize>written);
  heap.free(tmp);
}

/** Value of hex digit `c`, or -1. */
function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x57);
  return -1;
}

/**
 * Decodes the raw bytes between the quotes of a JSON string (as located by `jsonString`) into a
 * string: escapes resolved, UTF-8 decoded. Allocates. A broken escape is kept as written.
 */
export function decodeJsonString(ptr: usize, len: usize): string {
  const end = ptr + len;
  let hasEscape = false;
  for (let p = ptr; p < end; p++) {
    if (load<u8>(p) == 0x5c) {
      hasEscape = true;
      break;
    }
  }
  if (!hasEscape) return String.UTF8.decodeUnsafe(ptr, len);
  // Unescape into UTF-8 first (never longer than the input), then decode.
  const tmp = heap.alloc(len < 8 ? 8 : len);
  let w = tmp;
  let p = ptr;
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c != 0x5c || p + 1 >= end) {
      store<u8>(w++, <u8>c);
      p++;
      continue;
    }
    const e = <u32>load<u8>(p + 1);
    let out: i32 = -1;
    if (e == 0x22 || e == 0x5c || e == 0x2f) out = <i32>e;
    else if (e == 0x62) out = 0x08;
    else if (e == 0x66) out = 0x0c;
    else if (e == 0x6e) out = 0x0a;
    else if (e == 0x72) out = 0x0d;
    else if (e == 0x74) out = 0x09;
    if (out >= 0) {
      store<u8>(w++, <u8>out);
      p += 2;
      continue;
    }
    if (e == 0x75 && p + 6 <= end) {
      let cp: i32 = 0;
      for (let k: usize = 2; k < 6; k++) {
        const h = hexValue(<u32>load<u8>(p + k));
        cp = h < 0 || cp < 0 ? -1 : (cp << 4) | h;
      }
      if (cp >= 0) {
        p += 6;
        let code = <u32>cp;
        // A high surrogate followed by an escaped low surrogate is one code point.
        if (
          code - 0xd800 < 0x400 &&
          p + 6 <= end &&
          load<u8>(p) == 0x5c &&
          load<u8>(p + 1) == 0x75
        ) {
          let lo: i32 = 0;
          for (let k: usize = 2; k < 6; k++) {
            const h = hexValue(<u32>load<u8>(p + k));
            lo = h < 0 || lo < 0 ? -1 : (lo << 4) | h;
          }
          if (lo >= 0xdc00 && lo < 0xe000) {
            code = 0x10000 + ((code - 0xd800) << 10) + (<u32>lo - 0xdc00);
            p += 6;
          }
        }
        if (code - 0xd800 < 0x800) code = 0xfffd; // a lone surrogate has no UTF-8 form
        if (code < 0x80) {
          store<u8>(w++, <u8>code);
        } else if (code < 0x800) {
          store<u8>(w++, <u8>(0xc0 | (code >> 6)));
          store<u8>(w++, <u8>(0x80 | (code & 63)));
        } else if (code < 0x10000) {
          store<u8>(w++, <u8>(0xe0 | (code >> 12)));
          store<u8>(w++, <u8>(0x80 | ((code >> 6) & 63)));
          store<u8>(w++, <u8>(0x80 | (code & 63)));
        } else {
          store<u8>(w++, <u8>(0xf0 | (code >> 18)));
          store<u8>(w++, <u8>(0x80 | ((code >> 12) & 63)));
          store<u8>(w++, <u8>(0x80 | ((code >> 6) & 63)));
          store<u8>(w++, <u8>(0x80 | (code & 63)));
        }
        continue;
      }
    }
    store<u8>(w++, <u8>c);
    p++;
  }
  const s = String.UTF8.decodeUnsafe(tmp, w - tmp);
  heap.free(tmp);
  return s;
}
