/**
 * @module The on-disk layout of spool segments. A segment file is named by the sequence number
 * of its first record (16 decimal digits, `.seg`) and holds entries back to back:
 *
 * | offset | type | field |
 * |---|---|---|
 * | 0 | u32 | magic `0x31525053` (`S` `P` `R` `1`) |
 * | 4 | u32 | CRC-32 of bytes 8 .. end of the entry |
 * | 8 | u32 | length of the record |
 * | 12 | u32 | sequence number, low 32 bits |
 * | 16 | u32 | sequence number, high 32 bits |
 * | 20 | … | the record, in the frame record layout (runtime/FRAME.md) |
 *
 * The magic lets a reader find the next entry after a corrupted one; the sequence numbers tell
 * how many records a corrupted region held.
 */
import { crc32 } from './crc32.js';

/** Bytes before the record in an entry. */
export const ENTRY_HEADER_BYTES = 20;
/** Magic of an entry. */
export const ENTRY_MAGIC = 0x31525053;
/** Smallest record (the frame record header). */
const MIN_RECORD_BYTES = 32;

const SEGMENT_NAME = /^(\d{16})\.seg$/;

/** The file name of the segment whose first record has sequence number `first`. */
export function segmentName(first: number): string {
  return `${String(first).padStart(16, '0')}.seg`;
}

/** The first sequence number of a segment file name, or undefined when it is not one. */
export function parseSegmentName(name: string): number | undefined {
  const match = SEGMENT_NAME.exec(name);
  return match === null ? undefined : Number(match[1]);
}

function u32(bytes: Uint8Array, pos: number): number {
  return (
    ((bytes[pos] as number) |
      ((bytes[pos + 1] as number) << 8) |
      ((bytes[pos + 2] as number) << 16) |
      ((bytes[pos + 3] as number) << 24)) >>>
    0
  );
}

function putU32(bytes: Uint8Array, pos: number, value: number): void {
  bytes[pos] = value & 0xff;
  bytes[pos + 1] = (value >>> 8) & 0xff;
  bytes[pos + 2] = (value >>> 16) & 0xff;
  bytes[pos + 3] = (value >>> 24) & 0xff;
}

/** The size field of the frame record at `pos`. */
export function recordSize(bytes: Uint8Array, pos: number): number {
  return u32(bytes, pos);
}

/**
 * Writes an entry for the record `record[start, end)` with sequence number `seq` at `pos` of
 * `out`; returns the position after it.
 */
export function writeEntry(
  out: Uint8Array,
  pos: number,
  record: Uint8Array,
  start: number,
  end: number,
  seq: number,
): number {
  const length = end - start;
  putU32(out, pos, ENTRY_MAGIC);
  putU32(out, pos + 8, length);
  putU32(out, pos + 12, seq >>> 0);
  putU32(out, pos + 16, Math.floor(seq / 4294967296));
  out.set(record.subarray(start, end), pos + ENTRY_HEADER_BYTES);
  const next = pos + ENTRY_HEADER_BYTES + length;
  putU32(out, pos + 4, crc32(out, pos + 8, next));
  return next;
}

/** The sequence number of the entry at `pos`. */
export function entrySeq(bytes: Uint8Array, pos: number): number {
  return u32(bytes, pos + 12) + u32(bytes, pos + 16) * 4294967296;
}

/** The record length of the entry at `pos` (unchecked). */
export function entryRecordLength(bytes: Uint8Array, pos: number): number {
  return u32(bytes, pos + 8);
}

/**
 * Checks the entry at `pos` of `bytes[.., end)`: returns its total size when it is whole and its
 * checksum holds, 0 when it runs past `end` (possibly a torn write), -1 when it is invalid.
 * `maxRecord` bounds a plausible record length.
 */
export function checkEntry(bytes: Uint8Array, pos: number, end: number, maxRecord: number): number {
  if (end - pos < ENTRY_HEADER_BYTES)
    return end - pos > 0 && !magicPrefix(bytes, pos, end) ? -1 : 0;
  if (u32(bytes, pos) !== ENTRY_MAGIC) return -1;
  const length = u32(bytes, pos + 8);
  if (length < MIN_RECORD_BYTES || length > maxRecord) return -1;
  const next = pos + ENTRY_HEADER_BYTES + length;
  if (next > end) return 0;
  if (u32(bytes, pos + ENTRY_HEADER_BYTES) !== length) return -1;
  if (crc32(bytes, pos + 8, next) !== u32(bytes, pos + 4)) return -1;
  return next - pos;
}

function magicPrefix(bytes: Uint8Array, pos: number, end: number): boolean {
  for (let i = 0; i < 4 && pos + i < end; i++) {
    if (bytes[pos + i] !== ((ENTRY_MAGIC >>> (8 * i)) & 0xff)) return false;
  }
  return true;
}

/** The position of the next valid entry after `from` in `bytes[.., end)`, or -1. */
export function findNextEntry(
  bytes: Uint8Array,
  from: number,
  end: number,
  maxRecord: number,
): number {
  const first = ENTRY_MAGIC & 0xff;
  for (let pos = from; pos + ENTRY_HEADER_BYTES <= end; pos++) {
    if (bytes[pos] !== first) continue;
    if (checkEntry(bytes, pos, end, maxRecord) > 0) return pos;
  }
  return -1;
}
