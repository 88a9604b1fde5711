/**
 * @module Joining the output frames of a call's partitions into one frame for the outbox.
 */
import { FRAME_HEADER_BYTES, FRAME_MAGIC, frameRecordCount } from '../../runtime/index.js';

/** Joins the output frames of the partitions into one (passes a lone frame through as is). */
export class FrameMerger {
  readonly #frames: Uint8Array[] = [];

  /** Adds a partition's output frame. */
  add(frame: Uint8Array): void {
    this.#frames.push(frame);
  }

  /** The joined frame (a lone frame as is; undefined when none), and starts over. */
  finish(): Uint8Array | undefined {
    const frames = this.#frames;
    if (frames.length <= 1) return frames.pop();
    let bytes = FRAME_HEADER_BYTES;
    let count = 0;
    for (const f of frames) {
      bytes += f.length - FRAME_HEADER_BYTES;
      count += frameRecordCount(f);
    }
    const out = new Uint8Array(bytes);
    let at = FRAME_HEADER_BYTES;
    for (const f of frames) {
      out.set(f.subarray(FRAME_HEADER_BYTES), at);
      at += f.length - FRAME_HEADER_BYTES;
    }
    const view = new DataView(out.buffer);
    view.setUint32(0, FRAME_MAGIC, true);
    view.setUint32(4, count, true);
    view.setUint32(8, bytes, true);
    view.setUint32(12, 0, true);
    frames.length = 0;
    return out;
  }
}
