/**
 * @module `KeyTable`: interns keys (byte strings such as device keys) to dense indexes 0, 1, 2, …
 * in insertion order, so per-key state can live in flat arrays indexed by key. Open addressing
 * with linear probing over raw memory; a key's bytes are copied once, when it is first seen, and
 * a lookup of a known key allocates nothing. Keys are never removed.
 */

import { ByteBuffer } from './byte-buffer';
import { bytesEqual } from './field';
import { FNV_OFFSET, fnv1a } from './hash';
import { StateReader, StateWriter } from './state';

/** Section tag of a key table in a snapshot: `K` `E` `Y` `1`. */
export const KEY_TABLE_TAG: u32 = 0x3159454b;

// Per key entry: hash u64, key offset u32, key length u32.
const ENTRY_SIZE: u32 = 16;

/** Dense indexes for byte-string keys. */
export class KeyTable {
  private _slots: usize = 0;
  private _mask: u32 = 0;
  private _count: i32 = 0;
  private _entries: ByteBuffer = new ByteBuffer(16 * 1024);
  private _arena: ByteBuffer = new ByteBuffer(16 * 1024);
  /** Whether the last `intern` added the key. */
  added: bool = false;

  /** @param initialSlots hash slots allocated up front (rounded up to a power of two). @default 1024 */
  constructor(initialSlots: u32 = 1024) {
    let n: u32 = 16;
    while (n < initialSlots) n <<= 1;
    this.allocSlots(n);
  }

  /** Number of keys. */
  get count(): i32 {
    return this._count;
  }

  /** Index of the key at `[ptr, ptr + len)`, or -1. */
  find(ptr: usize, len: usize): i32 {
    const h = fnv1a(FNV_OFFSET, ptr, len);
    const mask = this._mask;
    let slot = (<u32>h) & mask;
    const entries = this._entries.ptr;
    while (true) {
      const v = load<u32>(this._slots + ((<usize>slot) << 2));
      if (v == 0) return -1;
      const e = entries + <usize>(v - 1) * ENTRY_SIZE;
      if (
        load<u64>(e) == h &&
        <usize>load<u32>(e, 12) == len &&
        bytesEqual(this._arena.ptr + <usize>load<u32>(e, 8), ptr, len)
      ) {
        return <i32>(v - 1);
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Index of the key at `[ptr, ptr + len)`, adding it when new (then `added` is true). */
  intern(ptr: usize, len: usize): i32 {
    const h = fnv1a(FNV_OFFSET, ptr, len);
    const mask = this._mask;
    let slot = (<u32>h) & mask;
    const entries = this._entries.ptr;
    while (true) {
      const at = this._slots + ((<usize>slot) << 2);
      const v = load<u32>(at);
      if (v == 0) break;
      const e = entries + <usize>(v - 1) * ENTRY_SIZE;
      if (
        load<u64>(e) == h &&
        <usize>load<u32>(e, 12) == len &&
        bytesEqual(this._arena.ptr + <usize>load<u32>(e, 8), ptr, len)
      ) {
        this.added = false;
        return <i32>(v - 1);
      }
      slot = (slot + 1) & mask;
    }
    const index = this._count;
    store<u32>(this._slots + ((<usize>slot) << 2), <u32>index + 1);
    const off = this._arena.len;
    this._arena.bytes(ptr, <u32>len);
    const entry = this._entries;
    entry.u64(h);
    entry.u32(off);
    entry.u32(<u32>len);
    this._count = index + 1;
    this.added = true;
    // Keep the load factor under 3/4.
    if (<u32>(index + 1) * 4 > (mask + 1) * 3) this.allocSlots((mask + 1) << 1);
    return index;
  }

  /** Address of key `i`'s bytes (valid until the next `intern`). */
  keyPtr(i: i32): usize {
    return this._arena.ptr + <usize>load<u32>(this._entries.ptr + <usize>i * ENTRY_SIZE, 8);
  }

  /** Byte length of key `i`. */
  keyLen(i: i32): usize {
    return <usize>load<u32>(this._entries.ptr + <usize>i * ENTRY_SIZE, 12);
  }

  /** Key `i` as a string (allocates). */
  keyString(i: i32): string {
    return String.UTF8.decodeUnsafe(this.keyPtr(i), this.keyLen(i));
  }

  /** Removes every key. */
  clear(): void {
    memory.fill(this._slots, 0, (<usize>this._mask + 1) << 2);
    this._entries.clear();
    this._arena.clear();
    this._count = 0;
  }

  /** Writes the keys, in index order. */
  save(w: StateWriter): void {
    w.u32(KEY_TABLE_TAG);
    w.u32(<u32>this._count);
    for (let i = 0; i < this._count; i++) {
      const n = this.keyLen(i);
      w.u32(<u32>n);
      w.bytes(this.keyPtr(i), n);
    }
  }

  /** Replaces the keys with those `save` wrote; indexes come back the same. */
  load(r: StateReader): bool {
    this.clear();
    if (!r.expect(KEY_TABLE_TAG, 'a key table (version 1)')) return false;
    const count = r.u32();
    for (let i: u32 = 0; i < count && r.ok; i++) {
      const n = <usize>r.u32();
      const p = r.take(n);
      if (p == 0 && n != 0) return false;
      this.intern(p, n);
      if (!this.added) {
        r.fail('state holds key ' + i.toString() + ' twice');
        return false;
      }
    }
    return r.ok;
  }

  private allocSlots(n: u32): void {
    const bytes = (<usize>n) << 2;
    const slots = heap.alloc(bytes);
    memory.fill(slots, 0, bytes);
    if (this._slots != 0) heap.free(this._slots);
    this._slots = slots;
    this._mask = n - 1;
    // Re-insert every key by its stored hash.
    const entries = this._entries.ptr;
    for (let i = 0; i < this._count; i++) {
      let slot = (<u32>load<u64>(entries + <usize>i * ENTRY_SIZE)) & this._mask;
      while (load<u32>(slots + ((<usize>slot) << 2)) != 0) slot = (slot + 1) & this._mask;
      store<u32>(slots + ((<usize>slot) << 2), <u32>i + 1);
    }
  }
}
