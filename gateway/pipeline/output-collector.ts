/**
 * @module Collects the output records of one batch that go to the outbox (from every rule of the
 * chain) into one growable buffer, copying whole records straight out of the rules' memory, and
 * hands them over as one owned frame. The buffer is reused across batches.
 */
import { FRAME_HEADER_BYTES, FRAME_MAGIC } from '../../runtime/index.js';
import type { FrameReader } from '../../runtime/index.js';

/** A growable frame of copied records. */
export class OutputCollector {
  #buf: Uint8Array = new Uint8Array(64 * 1024);
  #pos = FRAME_HEADER_BYTES;
  #count = 0;

  /** Records collected since the last `finish`. */
  get count(): number {
    return this.#count;
  }

  /** Copies the reader's current record. */
  appendRecord(reader: FrameReader): void {
    const start = reader.recordStart;
    this.#append(reader.frame, start, start + reader.recordSize, 1);
  }

  /** Copies every record of a frame already validated by `reader.reset(frame)`. */
  appendAll(reader: FrameReader): void {
    const frame = reader.frame;
    if (reader.count === 0) return;
    this.#append(frame, FRAME_HEADER_BYTES, frame.length, reader.count);
  }

  /** Returns the collected records as a new frame the caller owns (undefined when none), and starts over. */
  finish(): Uint8Array | undefined {
    if (this.#count === 0) return undefined;
    const frame = this.#buf.slice(0, this.#pos);
    const view = new DataView(frame.buffer);
    view.setUint32(0, FRAME_MAGIC, true);
    view.setUint32(4, this.#count, true);
    view.setUint32(8, this.#pos, true);
    view.setUint32(12, 0, true);
    this.#pos = FRAME_HEADER_BYTES;
    this.#count = 0;
    return frame;
  }

  #append(src: Uint8Array, start: number, end: number, count: number): void {
    const needed = this.#pos + (end - start);
    if (needed > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < needed) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#pos));
      this.#buf = next;
    }
    this.#buf.set(src.subarray(start, end), this.#pos);
    this.#pos = needed;
    this.#count += count;
  }
}
