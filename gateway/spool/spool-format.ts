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
 *
 * A **state entry** (rule-state checkpoint, written in the same group commit as the records it
 * is consistent with) has the same header with magic `0x31535053` (`S` `P` `S` `1`), the same
 * CRC scheme, and as sequence number the one of the next record: it covers every record before
 * it. Readers of records skip it. Its payload (spool-state.ts):
 *
 * | offset | type | field |
 * |---|---|---|
 * | 0 | u32 | length R of the rule states; or `0xffffffff`: unchanged since the previous entry (R = 0); or `0xfffffffe`: a delta follows |
 * | 4 | R bytes | rule states: u32 count, then per rule u16 name length, UTF-8 name, u32 state length, the rule's `snapshot()` bytes (in chain order) |
 * | 4 + R | u32 | N, identities of QoS 1/2 events this entry newly covers |
 * | 8 + R | N × 12 | per event: u32 MQTT packet id, u32 and u32 halves of a 64-bit hash of topic + payload |
 *
 * With a delta, a u32 length D and D bytes of a delta from the previous state entry's rule
 * states (state-delta.ts) stand in place of the rule states (offsets above move by 4 + D − R).
 * A delta is written when it is at most half the states' size and the deltas since the last
 * whole states stay under twice it.
 *
 * The first entry of every segment is a self-contained state entry (whole rule states and the
 * recent identities), so that deleting acknowledged segments never deletes the newest state.
 */
import { crc32 } from './crc32.js';

/** Bytes before the record in an entry. */
export const ENTRY_HEADER_BYTES = 20;
/** Magic of an entry. */
export const ENTRY_MAGIC = 0x31525053;
/** Magic of a state entry. */
export const STATE_MAGIC = 0x31535053;
/** Smallest record (the frame record header). */
const MIN_RECORD_BYTES = 32;
/** Smallest state payload (unchanged rule states, no identity). */
const MIN_STATE_BYTES = 8;

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
  const magic = u32(bytes, pos);
  if (magic !== ENTRY_MAGIC && magic !== STATE_MAGIC) return -1;
  const state = magic === STATE_MAGIC;
  const length = u32(bytes, pos + 8);
  if (length < (state ? MIN_STATE_BYTES : MIN_RECORD_BYTES) || length > maxRecord) return -1;
  const next = pos + ENTRY_HEADER_BYTES + length;
  if (next > end) return 0;
  if (!state && u32(bytes, pos + ENTRY_HEADER_BYTES) !== length) return -1;
  if (crc32(bytes, pos + 8, next) !== u32(bytes, pos + 4)) return -1;
  return next - pos;
}

function magicPrefix(bytes: Uint8Array, pos: number, end: number): boolean {
  return prefixOf(ENTRY_MAGIC, bytes, pos, end) || prefixOf(STATE_MAGIC, bytes, pos, end);
}

function prefixOf(magic: number, bytes: Uint8Array, pos: number, end: number): boolean {
  for (let i = 0; i < 4 && pos + i < end; i++) {
    if (bytes[pos + i] !== ((magic >>> (8 * i)) & 0xff)) return false;
  }
  return true;
}

/** Whether the (checked) entry at `pos` is a state entry. */
export function isStateEntry(bytes: Uint8Array, pos: number): boolean {
  return u32(bytes, pos) === STATE_MAGIC;
}

/**
 * Writes a state entry with payload `payload` covering the records before `seq` at `pos` of
 * `out`; returns the position after it.
 */
export function writeStateEntry(
  out: Uint8Array,
  pos: number,
  payload: Uint8Array,
  seq: number,
): number {
  const next = writeEntry(out, pos, payload, 0, payload.length, seq);
  putU32(out, pos, STATE_MAGIC);
  return next;
}

/** The position of the next valid entry after `from` in `bytes[.., end)`, or -1. */
export function findNextEntry(
  bytes: Uint8Array,
  from: number,
  end: number,
  maxRecord: number,
): number {
  // Both magics start with `S`.
  const first = ENTRY_MAGIC & 0xff;
  for (let pos = from; pos + ENTRY_HEADER_BYTES <= end; pos++) {
    if (bytes[pos] !== first) continue;
    if (checkEntry(bytes, pos, end, maxRecord) > 0) return pos;
  }
  return -1;
}
