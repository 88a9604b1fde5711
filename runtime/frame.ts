/**
 * @module The Sluice frame v1 (runtime/FRAME.md): its constants, format hints and output names.
 * `FrameWriter` (frame-writer.ts) builds input batches, `FrameReader` (frame-reader.ts) walks
 * frames, `FrameSelector` (frame-selector.ts) picks the records of one output.
 */

/** Magic of frame v1: the bytes `S` `L` `B` `1` read as a little-endian u32. */
export const FRAME_MAGIC = 0x31424c53;
/** Bytes of the frame header: magic, record count, byte length, flags. */
export const FRAME_HEADER_BYTES = 16;
/** Bytes of a record header, before its key, topic and payload. */
export const RECORD_HEADER_BYTES = 32;
/** Largest key or topic in a record (a u16 length). */
export const MAX_FIELD_BYTES = 0xffff;

/** Payload format hint carried in each record. */
export const Format = { Unknown: 0, Json: 1, Cbor: 2, Text: 3 } as const;
/** A payload format hint (0 unknown, 1 JSON, 2 CBOR, 3 text). */
export type Format = (typeof Format)[keyof typeof Format];

/** Output names with a meaning to the host (the `topic` of an output record). */
export const OutputName = {
  Default: 'default',
  Device: 'device',
  Dead: 'dead',
  Late: 'late',
} as const;
/** One of the output names the host knows; any other name is a named output. */
export type OutputName = (typeof OutputName)[keyof typeof OutputName];

const encoder = new TextEncoder();

/** The UTF-8 bytes of each known output name, for `FrameReader#topicEquals` and `FrameSelector#select`. */
export const OUTPUT_NAME_BYTES: Readonly<Record<OutputName, Uint8Array>> = {
  default: encoder.encode('default'),
  device: encoder.encode('device'),
  dead: encoder.encode('dead'),
  late: encoder.encode('late'),
};

/** 2^32: u64 and i64 fields cross as two u32 halves, no BigInt on the hot path. */
export const TWO_POW_32 = 4294967296;

/** The record count in a frame's header (0 for fewer than 8 bytes: the empty list a rule may return). */
export function frameRecordCount(frame: Uint8Array): number {
  if (frame.length < 8) return 0;
  return (
    ((frame[4] as number) |
      ((frame[5] as number) << 8) |
      ((frame[6] as number) << 16) |
      ((frame[7] as number) << 24)) >>>
    0
  );
}

/** Returns a new frame with no records (16 bytes). */
export function createEmptyFrame(): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(frame.buffer);
  view.setUint32(0, FRAME_MAGIC, true);
  view.setUint32(8, FRAME_HEADER_BYTES, true);
  return frame;
}
