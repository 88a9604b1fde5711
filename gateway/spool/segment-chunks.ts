/**
 * @module The spool's read buffer: positional reads of segment files into one reused chunk (no
 * allocation per batch). Reads are synchronous: the forwarder reads at most one chunk (1 MiB) per
 * batch, from the page cache in the common case (records just written); see docs/delivery.md
 * for the trade-off on slow storage.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Segment } from './spool-recovery.js';

/** A read chunk over the spool's segments. */
export class SegmentChunks {
  #chunk = Buffer.alloc(1 << 20);
  #segment = -1;
  #start = 0;
  #length = 0;

  /** The chunk's bytes (valid up to {@link length}). */
  get bytes(): Buffer {
    return this.#chunk;
  }

  /** Bytes of the chunk read from the file. */
  get length(): number {
    return this.#length;
  }

  /**
   * Makes `[offset, offset + length)` of `segment` available in the chunk; returns its position
   * in the chunk, or -1 when the segment ends before.
   */
  load(segment: Segment, offset: number, length: number): number {
    if (offset + length > segment.size) return -1;
    if (
      this.#segment === segment.first &&
      offset >= this.#start &&
      offset + length <= this.#start + this.#length
    ) {
      return offset - this.#start;
    }
    if (length > this.#chunk.length) this.#chunk = Buffer.alloc(length * 2);
    segment.fd ??= openSync(segment.path, 'r');
    const want = Math.min(this.#chunk.length, segment.size - offset);
    const read = readSync(segment.fd, this.#chunk, 0, want, offset);
    this.#segment = segment.first;
    this.#start = offset;
    this.#length = read;
    return read >= length ? 0 : -1;
  }

  /** Reads the rest of `segment` from `from` into a fresh buffer (corruption recovery only). */
  readRest(segment: Segment, from: number): { bytes: Buffer; length: number } {
    const bytes = Buffer.alloc(segment.size - from);
    segment.fd ??= openSync(segment.path, 'r');
    const length = readSync(segment.fd, bytes, 0, bytes.length, from);
    this.#segment = -1;
    return { bytes, length };
  }

  /** Closes `segment`'s read descriptor and forgets what the chunk holds of it. */
  close(segment: Segment): void {
    if (segment.fd !== undefined) closeSync(segment.fd);
    segment.fd = undefined;
    if (this.#segment === segment.first) this.#segment = -1;
  }
}
