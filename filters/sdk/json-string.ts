/**
 * @module Compares a JSON string body (escapes not decoded) with UTF-8 bytes, decoding escapes
 * on the fly: used for keys that contain a backslash and by `jsonStringEquals`.
 */

function isHex(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 6;
}

function hexValue(c: u32): u32 {
  return c - 0x30 < 10 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}

/**
 * Whether the JSON string body at `[s, s + sLen)` (escapes not decoded) equals the UTF-8 bytes
 * `[t, t + tLen)` once decoded. Lone surrogates decode to their 3-byte (WTF-8) form, which is
 * how AssemblyScript encodes them in a FieldPath / FieldText.
 */
export function escapedEquals(s: usize, sLen: usize, t: usize, tLen: usize): bool {
  const se = s + sLen;
  const te = t + tLen;
  let p = s;
  let q = t;
  while (p < se) {
    const c = <u32>load<u8>(p);
    if (c != 0x5c) {
      if (q >= te || <u32>load<u8>(q) != c) return false;
      p++;
      q++;
      continue;
    }
    if (se - p < 2) return false;
    const x = <u32>load<u8>(p + 1);
    if (x != 0x75) {
      let b: u32 = 0;
      if (x == 0x22 || x == 0x5c || x == 0x2f) b = x;
      else if (x == 0x62) b = 0x08;
      else if (x == 0x66) b = 0x0c;
      else if (x == 0x6e) b = 0x0a;
      else if (x == 0x72) b = 0x0d;
      else if (x == 0x74) b = 0x09;
      else return false;
      if (q >= te || <u32>load<u8>(q) != b) return false;
      p += 2;
      q++;
      continue;
    }
    if (se - p < 6) return false;
    let cp = readHex4(p + 2);
    if (cp > 0xffff) return false;
    p += 6;
    if (cp - 0xd800 < 0x400 && se - p >= 6 && load<u8>(p) == 0x5c && load<u8>(p + 1) == 0x75) {
      const lo = readHex4(p + 2);
      if (lo - 0xdc00 < 0x400) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
      }
    }
    // Compare the UTF-8 (WTF-8) encoding of cp.
    let n: usize;
    if (cp < 0x80) n = 1;
    else if (cp < 0x800) n = 2;
    else if (cp < 0x10000) n = 3;
    else n = 4;
    if (<usize>(te - q) < n) return false;
    if (n == 1) {
      if (<u32>load<u8>(q) != cp) return false;
    } else if (n == 2) {
      if (<u32>load<u8>(q) != (0xc0 | (cp >> 6))) return false;
      if (<u32>load<u8>(q + 1) != (0x80 | (cp & 0x3f))) return false;
    } else if (n == 3) {
      if (<u32>load<u8>(q) != (0xe0 | (cp >> 12))) return false;
      if (<u32>load<u8>(q + 1) != (0x80 | ((cp >> 6) & 0x3f))) return false;
      if (<u32>load<u8>(q + 2) != (0x80 | (cp & 0x3f))) return false;
    } else {
      if (<u32>load<u8>(q) != (0xf0 | (cp >> 18))) return false;
      if (<u32>load<u8>(q + 1) != (0x80 | ((cp >> 12) & 0x3f))) return false;
      if (<u32>load<u8>(q + 2) != (0x80 | ((cp >> 6) & 0x3f))) return false;
      if (<u32>load<u8>(q + 3) != (0x80 | (cp & 0x3f))) return false;
    }
    q += n;
  }
  return q == te;
}

/** The value of 4 hex digits at `p`, or 0x10000 when one is not a hex digit. */
function readHex4(p: usize): u32 {
  let v: u32 = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = <u32>load<u8>(p + i);
    if (!isHex(c)) return 0x10000;
    v = (v << 4) | hexValue(c);
  }
  return v;
}
