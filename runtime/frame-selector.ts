/**
 * @module `FrameSelector`: the records of one output of an output frame, e.g. the `default`
 * outputs of one rule as the input batch of the next; no copy when every record goes there.
 */
import { FRAME_HEADER_BYTES, FRAME_MAGIC, createEmptyFrame } from './frame.js';
import { FrameReader } from './frame-reader.js';

/**
 * Selects the records of one output from an output frame — e.g. the `default` outputs of one
 * rule, to feed the next rule of a chain. Reuses one reader and one buffer across calls.
 */
export class FrameSelector {
  readonly #reader = new FrameReader();
  readonly #empty = createEmptyFrame();
  #buf = new Uint8Array(0);
  #count = 0;

  /** Records in the frame the last `select` returned. */
  get count(): number {
    return this.#count;
  }

  /**
   * Returns a frame of the records of `frame` whose output is `output`: `frame` itself when all
   * records go there (no copy; a rule's output stays valid only until that rule's next call),
   * otherwise a frame in an internal buffer valid until the next `select`.
   * @throws FrameFormatError when `frame` is malformed.
   */
  select(frame: Uint8Array, output: Uint8Array): Uint8Array {
    const reader = this.#reader.reset(frame);
    let matched = 0;
    let copying = false;
    let pos = FRAME_HEADER_BYTES;
    while (reader.next()) {
      const hit = reader.topicEquals(output);
      if (!copying) {
        if (hit) {
          matched++;
          continue;
        }
        // First miss: from here on copy; the records so far are contiguous after the header.
        copying = true;
        if (this.#buf.length < frame.length) this.#buf = new Uint8Array(frame.length);
        pos = reader.recordStart;
        this.#buf.set(frame.subarray(FRAME_HEADER_BYTES, pos), FRAME_HEADER_BYTES);
        continue;
      }
      if (hit) {
        const start = reader.recordStart;
        this.#buf.set(frame.subarray(start, start + reader.recordSize), pos);
        pos += reader.recordSize;
        matched++;
      }
    }
    this.#count = matched;
    if (matched === 0) return this.#empty;
    if (!copying) return frame;
    const view = new DataView(this.#buf.buffer, 0, FRAME_HEADER_BYTES);
    view.setUint32(0, FRAME_MAGIC, true);
    view.setUint32(4, matched, true);
    view.setUint32(8, pos, true);
    view.setUint32(12, 0, true);
    return this.#buf.subarray(0, pos);
  }
}
