/**
 * @module The input batch: a cursor over the records of a frame (runtime/FRAME.md) and the one
 * reusable `Event` view of the current record. Iterating allocates nothing: the view only moves.
 *
 * ```ts
 * while (batch.next()) {
 *   const ev = batch.event;
 *   const temp = ev.f64(TEMP);          // TEMP = new FieldPath("temp"), created once
 *   if (ev.status != FIELD_OK) { out.deadField(ev); continue; }
 * }
 * ```
 */

import {
  FRAME_HEADER_SIZE,
  FRAME_MAGIC,
  RECORD_HEADER_SIZE,
  REC_KEY_LEN,
  REC_PAYLOAD_LEN,
  REC_SIZE,
  REC_TOPIC_LEN,
} from './frame';
import { Event } from './event';

/** A cursor over the records of one input frame. The frame stays valid until `process` returns. */
export class Batch {
  /** The current record (moved by `next`). */
  readonly event: Event = new Event();
  private _ptr: usize = 0;
  private _end: usize = 0;
  private _count: u32 = 0;
  private _index: u32 = 0;
  private _cursor: usize = 0;

  /** Number of records in the batch. */
  get count(): u32 {
    return this._count;
  }

  /** Index of the current record (0-based); equals `count` after the last. */
  get index(): u32 {
    return this._index == 0 ? 0 : this._index - 1;
  }

  /**
   * Points the batch at the frame at `[ptr, ptr + len)`. A frame the host got wrong (bad magic,
   * lengths that do not add up) traps: it is a host bug, not bad input, and fails the batch.
   * An empty list (`len` 0) is a batch of no records.
   */
  reset(ptr: usize, len: usize): void {
    this._ptr = ptr;
    this._index = 0;
    this._cursor = ptr + <usize>FRAME_HEADER_SIZE;
    if (len == 0) {
      this._count = 0;
      this._end = ptr;
      return;
    }
    if (len < <usize>FRAME_HEADER_SIZE || load<u32>(ptr) != FRAME_MAGIC) {
      abort('sluice sdk: the input is not a version-1 Sluice frame');
    }
    const frameLen = <usize>load<u32>(ptr, 8);
    if (frameLen < <usize>FRAME_HEADER_SIZE || frameLen > len) {
      abort("sluice sdk: the input frame's length does not match its header");
    }
    this._count = load<u32>(ptr, 4);
    this._end = ptr + frameLen;
  }

  /** Goes back to before the first record, for a second pass. */
  rewind(): void {
    this._index = 0;
    this._cursor = this._ptr + <usize>FRAME_HEADER_SIZE;
  }

  /** Moves `event` to the next record; false after the last one. */
  next(): bool {
    if (this._index >= this._count) return false;
    const rec = this._cursor;
    const end = this._end;
    if (rec + <usize>RECORD_HEADER_SIZE > end || rec + <usize>RECORD_HEADER_SIZE < rec) {
      abort('sluice sdk: the input frame ends inside a record header');
    }
    const size = <usize>load<u32>(rec, REC_SIZE);
    const keyLen = <usize>load<u16>(rec, REC_KEY_LEN);
    const topicLen = <usize>load<u16>(rec, REC_TOPIC_LEN);
    const payloadLen = <usize>load<u32>(rec, REC_PAYLOAD_LEN);
    // Computed in u64 so that a hostile payloadLen cannot wrap the sum around.
    if (
      <u64>size != <u64>RECORD_HEADER_SIZE + <u64>keyLen + <u64>topicLen + <u64>payloadLen ||
      <u64>rec + <u64>size > <u64>end
    ) {
      abort("sluice sdk: an input record's size does not match its lengths or the frame");
    }
    this.event.point(rec, keyLen, topicLen, payloadLen);
    this._cursor = rec + size;
    this._index++;
    return true;
  }
}
