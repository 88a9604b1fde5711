/**
 * @module CRC-32 (IEEE 802.3, the polynomial of zlib, gzip and PNG), used to checksum every spool
 * entry. Node's `zlib.crc32` (Node ≥ 20.15, native) when present — about 50× faster than the
 * table walk on the rule-state entries of a checkpoint (110 KB for window-stats with 1000 devices:
 * ~1.4 ms in JS) — else a 256-entry table, so that the spool needs no native addon.
 */
import * as zlib from 'node:zlib';

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

/** The CRC-32 of `bytes[start, end)` computed with the table (the fallback; also for tests). */
export function crc32Table(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  let crc = -1;
  for (let i = start; i < end; i++) {
    crc = (TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ -1) >>> 0;
}

/** The CRC-32 of `bytes[start, end)`, as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  if (native === undefined) return crc32Table(bytes, start, end);
  const range = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  return native(range) >>> 0;
}
