/**
 * @module FNV-1a, 64 bits: the hash of interned keys and of window ids. Window ids must be
 * reproducible outside the rule (by upstream de-duplication, by tests), so the function is
 * fixed and documented: FNV-1a over the key bytes, then over the 8 little-endian bytes of the
 * window start (`windowId`).
 */

/** FNV-1a 64-bit offset basis. */
export const FNV_OFFSET: u64 = 0xcbf29ce484222325;
/** FNV-1a 64-bit prime. */
export const FNV_PRIME: u64 = 0x100000001b3;

/** Continues an FNV-1a hash `h` over `len` bytes at `ptr`. */
export function fnv1a(h: u64, ptr: usize, len: usize): u64 {
  const end = ptr + len;
  for (let p = ptr; p < end; p++) {
    h = (h ^ (<u64>load<u8>(p))) * FNV_PRIME;
  }
  return h;
}

/** Continues an FNV-1a hash `h` over the 8 little-endian bytes of `value`. */
export function fnv1aU64(h: u64, value: u64): u64 {
  for (let i = 0; i < 8; i++) {
    h = (h ^ ((value >>> ((<u64>i) << 3)) & 0xff)) * FNV_PRIME;
  }
  return h;
}

/** Id of the window of `key` starting at `start`: FNV-1a 64 over the key bytes, then start (i64 LE). */
export function windowId(keyPtr: usize, keyLen: usize, start: i64): u64 {
  return fnv1aU64(fnv1a(FNV_OFFSET, keyPtr, keyLen), <u64>start);
}
