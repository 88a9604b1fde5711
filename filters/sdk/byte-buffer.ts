/**
 * @module A growable byte buffer in raw linear memory (`heap.alloc/realloc`), reused across
 * calls. Raw memory is invisible to the garbage collector, so a buffer the size of a whole
 * output frame costs the collector nothing. Writers keep offsets, never addresses: an address
 * is valid only until the next `reserve`, which may move the buffer.
 */

/** Largest buffer a rule may build (a guard against runaway growth; memory runs out first). */
export const MAX_BUFFER_BYTES: u64 = 0x40000000;

/** A growable little-endian byte writer over raw memory. */
export class ByteBuffer {
  /** Address of the first byte; changes when the buffer grows. */
  ptr: usize;
  /** Bytes written. */
  len: u32 = 0;
  /** Bytes allocated. */
  cap: u32;

  /** @param initialCapacity bytes allocated up front. @default 1024 */
  constructor(initialCapacity: u32 = 1024) {
    const cap = initialCapacity < 16 ? 16 : initialCapacity;
    this.cap = cap;
    this.ptr = heap.alloc(<usize>cap);
  }

  /** Forgets the contents, keeps the memory. */
  clear(): void {
    this.len = 0;
  }

  /** Makes room for `extra` more bytes and returns the address they go to (valid until the next reserve). */
  reserve(extra: u32): usize {
    const need = <u64>this.len + <u64>extra;
    if (need > <u64>this.cap) this.grow(need);
    return this.ptr + <usize>this.len;
  }

  /** Grows the allocation to at least `need` bytes, doubling. */
  grow(need: u64): void {
    if (need > MAX_BUFFER_BYTES) abort('sluice sdk: a buffer grew past 1 GiB');
    let cap = <u64>this.cap;
    while (cap < need) cap <<= 1;
    this.ptr = heap.realloc(this.ptr, <usize>cap);
    this.cap = <u32>cap;
  }

  /** Appends one byte. */
  u8(value: u32): void {
    const p = this.reserve(1);
    store<u8>(p, <u8>value);
    this.len += 1;
  }

  /** Appends a u16, little-endian. */
  u16(value: u32): void {
    const p = this.reserve(2);
    store<u16>(p, <u16>value);
    this.len += 2;
  }

  /** Appends a u32, little-endian. */
  u32(value: u32): void {
    const p = this.reserve(4);
    store<u32>(p, value);
    this.len += 4;
  }

  /** Appends a u64, little-endian. */
  u64(value: u64): void {
    const p = this.reserve(8);
    store<u64>(p, value);
    this.len += 8;
  }

  /** Appends an f64, little-endian IEEE 754. */
  f64(value: f64): void {
    const p = this.reserve(8);
    store<f64>(p, value);
    this.len += 8;
  }

  /** Appends `len` bytes copied from `src`. */
  bytes(src: usize, len: u32): void {
    const p = this.reserve(len);
    memory.copy(p, src, <usize>len);
    this.len += len;
  }

  /** Appends a string as UTF-8 (lone surrogates become U+FFFD); returns the bytes written. */
  utf8(s: string): u32 {
    const max = <u32>s.length * 3;
    const p = this.reserve(max);
    const n = <u32>(
      String.UTF8.encodeUnsafe(
        changetype<usize>(s),
        s.length,
        p,
        false,
        String.UTF8.ErrorMode.REPLACE,
      )
    );
    this.len += n;
    return n;
  }

  /** Overwrites a u32 at byte offset `at` (already written). */
  patchU32(at: u32, value: u32): void {
    store<u32>(this.ptr + <usize>at, value);
  }

  /** Overwrites a u16 at byte offset `at` (already written). */
  patchU16(at: u32, value: u32): void {
    store<u16>(this.ptr + <usize>at, <u16>value);
  }
}
