/**
 * @module `WindowPool`: fixed-size window records in one block of raw memory, addressed by index
 * (an address is valid only until the next `alloc`, which may move the block), with a free list
 * so that closing and opening windows reuses records instead of allocating.
 *
 * Record: start i64 @0, end i64 @8, next i32 @16 (the key's next window, -1 = none), seq i64 @24
 * (count windows: the window's number for its key), then the accumulator area (`Aggregates`).
 */

import { ByteBuffer } from './byte-buffer';

/** Window start (i64). */
export const W_START: usize = 0;
/** Window end, exclusive (i64). */
export const W_END: usize = 8;
/** Index of the key's next window, or -1 (i32). */
export const W_NEXT: usize = 16;
/** Sequence number of a count window (i64). */
export const W_SEQ: usize = 24;
/** Start of the accumulator area. */
export const W_AGG: usize = 32;

/** A pool of window records. */
export class WindowPool {
  /** Bytes per record. */
  readonly recordSize: u32;
  private _buf: ByteBuffer;
  private _free: i32 = -1;
  private _count: i32 = 0;

  /** @param aggregateBytes size of the accumulator area of a record. */
  constructor(aggregateBytes: u32) {
    const size = <u32>W_AGG + aggregateBytes;
    this.recordSize = size;
    this._buf = new ByteBuffer(size * 256);
  }

  /** Address of record `i` (valid until the next `alloc`). */
  // @ts-ignore: decorator
  @inline
  at(i: i32): usize {
    return this._buf.ptr + <usize>i * <usize>this.recordSize;
  }

  /** A zeroed record. */
  alloc(): i32 {
    let i = this._free;
    if (i >= 0) {
      this._free = load<i32>(this.at(i));
    } else {
      this._buf.reserve(this.recordSize);
      this._buf.len += this.recordSize;
      i = this._count++;
    }
    memory.fill(this.at(i), 0, <usize>this.recordSize);
    return i;
  }

  /** Returns record `i` to the pool (its accumulators must have been released). */
  free(i: i32): void {
    store<i32>(this.at(i), this._free);
    this._free = i;
  }

  /** Forgets every record. */
  clear(): void {
    this._buf.clear();
    this._free = -1;
    this._count = 0;
  }
}
