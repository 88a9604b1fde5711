/**
 * @module `FrameReader`: an allocation-light cursor over one frame (runtime/FRAME.md) that
 * validates the whole frame up front, so a malformed frame from a rule is a typed error and never
 * an out-of-range read.
 */
import { FrameFormatError } from './errors.js';
import { FRAME_HEADER_BYTES, FRAME_MAGIC, RECORD_HEADER_BYTES, TWO_POW_32 } from './frame.js';

const decoder = new TextDecoder();

/**
 * A cursor over one frame. `reset` validates the whole frame once (magic, byte length, record
 * count, every record's lengths), so `next` and the accessors never read out of range.
 * Offsets (`keyStart`, `recordStart`, …) are indexes into `frame`.
 */
export class FrameReader {
  #frame: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(this.#frame.buffer);
  #count = 0;
  #index = -1;
  #next = FRAME_HEADER_BYTES;
  #rec = 0;
  #size = 0;
  #keyLength = 0;
  #topicLength = 0;

  /**
   * Starts reading `frame` (a length-0 array reads as a frame with no records).
   * @throws FrameFormatError when the frame is malformed.
   */
  reset(frame: Uint8Array): this {
    const n = frame.length;
    const view = new DataView(frame.buffer, frame.byteOffset, n);
    let count = 0;
    if (n !== 0) count = validateFrame(view, n);
    this.#frame = frame;
    this.#view = view;
    this.#count = count;
    this.#index = -1;
    this.#next = FRAME_HEADER_BYTES;
    this.#rec = 0;
    this.#size = 0;
    this.#keyLength = 0;
    this.#topicLength = 0;
    return this;
  }

  /** Moves to the next record; false after the last one. */
  next(): boolean {
    if (this.#index + 1 >= this.#count) return false;
    const view = this.#view;
    const rec = this.#next;
    this.#index++;
    this.#rec = rec;
    this.#size = view.getUint32(rec, true);
    this.#keyLength = view.getUint16(rec + 6, true);
    this.#topicLength = view.getUint16(rec + 8, true);
    this.#next = rec + this.#size;
    return true;
  }

  /** The frame being read. */
  get frame(): Uint8Array {
    return this.#frame;
  }
  /** Number of records in the frame. */
  get count(): number {
    return this.#count;
  }
  /** Index of the current record (-1 before the first `next`). */
  get index(): number {
    return this.#index;
  }
  /** Offset of the current record in `frame`. */
  get recordStart(): number {
    return this.#rec;
  }
  /** Size of the current record, header included. */
  get recordSize(): number {
    return this.#size;
  }
  /** QoS the event arrived with. */
  get qos(): number {
    return this.#frame[this.#rec + 4] ?? 0;
  }
  /** Format hint (see `Format`). */
  get format(): number {
    return this.#frame[this.#rec + 5] ?? 0;
  }
  get keyStart(): number {
    return this.#rec + RECORD_HEADER_BYTES;
  }
  get keyLength(): number {
    return this.#keyLength;
  }
  get topicStart(): number {
    return this.#rec + RECORD_HEADER_BYTES + this.#keyLength;
  }
  get topicLength(): number {
    return this.#topicLength;
  }
  get payloadStart(): number {
    return this.#rec + RECORD_HEADER_BYTES + this.#keyLength + this.#topicLength;
  }
  get payloadLength(): number {
    return this.#view.getUint32(this.#rec + 12, true);
  }
  /** Low 32 bits of the id. */
  get idLow(): number {
    return this.#view.getUint32(this.#rec + 16, true);
  }
  /** High 32 bits of the id. */
  get idHigh(): number {
    return this.#view.getUint32(this.#rec + 20, true);
  }
  /** The id as a number: exact below 2^53 (event ids); use `idBigInt()` for 64-bit hashes. */
  get id(): number {
    return (
      this.#view.getUint32(this.#rec + 16, true) +
      this.#view.getUint32(this.#rec + 20, true) * TWO_POW_32
    );
  }
  /** Time in milliseconds since the Unix epoch. */
  get time(): number {
    return (
      this.#view.getUint32(this.#rec + 24, true) +
      this.#view.getInt32(this.#rec + 28, true) * TWO_POW_32
    );
  }

  /** The id, exact over all 64 bits. */
  idBigInt(): bigint {
    return this.#view.getBigUint64(this.#rec + 16, true);
  }
  /** The key, decoded (allocates). */
  key(): string {
    const start = this.#rec + RECORD_HEADER_BYTES;
    return decoder.decode(this.#frame.subarray(start, start + this.#keyLength));
  }
  /** The topic (an output name in output frames), decoded (allocates). */
  topic(): string {
    const start = this.#rec + RECORD_HEADER_BYTES + this.#keyLength;
    return decoder.decode(this.#frame.subarray(start, start + this.#topicLength));
  }
  /** A view of the payload inside `frame`. */
  payload(): Uint8Array {
    const start = this.payloadStart;
    return this.#frame.subarray(start, start + this.payloadLength);
  }
  /** A view of the whole current record inside `frame`. */
  record(): Uint8Array {
    return this.#frame.subarray(this.#rec, this.#rec + this.#size);
  }
  /** Whether the topic (output name) equals `bytes`, without decoding. */
  topicEquals(bytes: Uint8Array): boolean {
    return this.#fieldEquals(
      this.#rec + RECORD_HEADER_BYTES + this.#keyLength,
      this.#topicLength,
      bytes,
    );
  }
  /** Whether the key equals `bytes`, without decoding. */
  keyEquals(bytes: Uint8Array): boolean {
    return this.#fieldEquals(this.#rec + RECORD_HEADER_BYTES, this.#keyLength, bytes);
  }

  #fieldEquals(start: number, length: number, bytes: Uint8Array): boolean {
    if (length !== bytes.length) return false;
    const frame = this.#frame;
    for (let i = 0; i < length; i++) {
      if (frame[start + i] !== bytes[i]) return false;
    }
    return true;
  }
}

function validateFrame(view: DataView, n: number): number {
  if (n < FRAME_HEADER_BYTES) {
    throw new FrameFormatError(
      `frame is ${n} bytes, shorter than its ${FRAME_HEADER_BYTES}-byte header`,
      0,
    );
  }
  const magic = view.getUint32(0, true);
  if (magic !== FRAME_MAGIC) {
    if ((magic & 0x00ffffff) === (FRAME_MAGIC & 0x00ffffff)) {
      throw new FrameFormatError(
        `frame version byte is 0x${(magic >>> 24).toString(16)} but this host reads version 1 ("SLB1") only`,
        3,
      );
    }
    throw new FrameFormatError(
      `frame magic is 0x${magic.toString(16).padStart(8, '0')}, not 0x${FRAME_MAGIC.toString(16)} ("SLB1"): not a Sluice frame`,
      0,
    );
  }
  const count = view.getUint32(4, true);
  const byteLength = view.getUint32(8, true);
  if (byteLength !== n) {
    throw new FrameFormatError(
      `frame header says ${byteLength} bytes but the frame is ${n} bytes`,
      8,
    );
  }
  if (count > (n - FRAME_HEADER_BYTES) / RECORD_HEADER_BYTES) {
    throw new FrameFormatError(
      `frame header says ${count} records but ${n} bytes hold at most ${Math.floor((n - FRAME_HEADER_BYTES) / RECORD_HEADER_BYTES)}`,
      4,
    );
  }
  let pos = FRAME_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + RECORD_HEADER_BYTES > n) {
      throw new FrameFormatError(
        `record ${i} at byte ${pos}: its ${RECORD_HEADER_BYTES}-byte header runs past the end of the ${n}-byte frame`,
        pos,
      );
    }
    const size = view.getUint32(pos, true);
    const expected =
      RECORD_HEADER_BYTES +
      view.getUint16(pos + 6, true) +
      view.getUint16(pos + 8, true) +
      view.getUint32(pos + 12, true);
    if (size !== expected) {
      throw new FrameFormatError(
        `record ${i} at byte ${pos}: size is ${size} but its header and lengths add up to ${expected}`,
        pos,
      );
    }
    if (pos + size > n) {
      throw new FrameFormatError(
        `record ${i} at byte ${pos}: its ${size} bytes run past the end of the ${n}-byte frame`,
        pos,
      );
    }
    pos += size;
  }
  if (pos !== n) {
    throw new FrameFormatError(`frame has ${n - pos} bytes after its ${count} records`, pos);
  }
  return count;
}
