/**
 * @module Constants of the Sluice frame, version 1 (runtime/FRAME.md): the layout shared by the
 * input batch and the output records.
 */

/** Magic of a version-1 frame: the bytes `S` `L` `B` `1`, read as a little-endian u32. */
export const FRAME_MAGIC: u32 = 0x31424c53;
/** Bytes in the frame header: magic, record count, frame length, flags. */
export const FRAME_HEADER_SIZE: u32 = 16;
/** Bytes in a record header, before key, topic and payload. */
export const RECORD_HEADER_SIZE: u32 = 32;

/** Largest key or output name a record can hold (a u16 length). */
export const MAX_NAME_BYTES: u32 = 0xffff;

/** Format hint: unknown (the SDK sniffs the payload). */
export const FORMAT_UNKNOWN: u8 = 0;
/** Format hint: JSON. */
export const FORMAT_JSON: u8 = 1;
/** Format hint: CBOR. */
export const FORMAT_CBOR: u8 = 2;
/** Format hint: UTF-8 text. */
export const FORMAT_TEXT: u8 = 3;

// Record header offsets.
export const REC_SIZE: usize = 0;
export const REC_QOS: usize = 4;
export const REC_FORMAT: usize = 5;
export const REC_KEY_LEN: usize = 6;
export const REC_TOPIC_LEN: usize = 8;
export const REC_FLAGS: usize = 10;
export const REC_PAYLOAD_LEN: usize = 12;
export const REC_ID: usize = 16;
export const REC_TIME: usize = 24;
