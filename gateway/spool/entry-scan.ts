/**
 * @module Scanning a segment file's entries at recovery through a bounded read window, so that
 * opening a spool costs a window's memory (256 KiB, or one entry when an entry is larger) rather
 * than a whole segment's. Reading whole segments made a restart's resident memory grow by
 * twice the segment size (8 MiB each by default): once to find the checkpoint, once to scan the
 * newest segment's tail.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { checkEntry, ENTRY_HEADER_BYTES, ENTRY_MAGIC, entryRecordLength } from './spool-format.js';

/** Bytes read at a time. */
const WINDOW_BYTES = 256 * 1024;
/** Both entry magics start with this byte (`S`). */
const MAGIC_FIRST_BYTE = ENTRY_MAGIC & 0xff;

/**
 * Called for each valid entry: `bytes[pos, pos + size)` is the entry, at `offset` in the file.
 * The bytes are valid only during the call.
 */
export type EntryVisitor = (bytes: Uint8Array, pos: number, size: number, offset: number) => void;

/** Options of {@link scanEntries}. */
export interface ScanOptions {
  /** Largest plausible record length (see `checkEntry`). */
  maxRecord: number;
  /** Bytes read at a time. @default 256 KiB */
  windowBytes?: number;
}

/**
 * Calls `visit` for each valid entry of the segment file `path`, in file order. As with a
 * whole-file scan, a corrupted region is skipped up to the next valid entry, and an entry cut
 * short by the end of the file is not visited. Returns the end of the last valid entry.
 */
export async function scanEntries(
  path: string,
  options: ScanOptions,
  visit: EntryVisitor,
): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const window = new ReadWindow(handle, size, options.windowBytes ?? WINDOW_BYTES);
    let validEnd = 0;
    for (;;) {
      if (window.pos >= window.length && !(await window.more(0))) break;
      const { bytes, pos, length } = window;
      const check = checkEntry(bytes, pos, length, options.maxRecord);
      if (check > 0) {
        visit(bytes, pos, check, window.offset + pos);
        window.pos += check;
        validEnd = window.offset + window.pos;
        continue;
      }
      // Runs past the window: read on, unless the file ends before the entry would.
      if (check === 0 && (await window.more(entryBytes(bytes, pos, length)))) continue;
      // Invalid, or cut short by the end of the file: try the next byte that may start an entry.
      window.pos = nextCandidate(bytes, pos + 1, length);
    }
    return validEnd;
  } finally {
    await handle.close();
  }
}

/** Bytes of the entry at `pos` when its header is in the window, else of a header. */
function entryBytes(bytes: Uint8Array, pos: number, length: number): number {
  return length - pos >= ENTRY_HEADER_BYTES
    ? ENTRY_HEADER_BYTES + entryRecordLength(bytes, pos)
    : ENTRY_HEADER_BYTES;
}

function nextCandidate(bytes: Uint8Array, from: number, length: number): number {
  const at = bytes.indexOf(MAGIC_FIRST_BYTE, from);
  return at < 0 || at > length ? length : at;
}

/** A window over a file: `bytes[0, length)` holds the file from `offset`; `pos` is in it. */
class ReadWindow {
  readonly #handle: FileHandle;
  readonly #size: number;
  bytes: Buffer;
  offset = 0;
  length = 0;
  pos = 0;

  constructor(handle: FileHandle, size: number, windowBytes: number) {
    this.#handle = handle;
    this.#size = size;
    this.bytes = Buffer.allocUnsafe(Math.max(1, Math.min(windowBytes, size)));
  }

  /**
   * Moves the window to start at `pos` and reads after what it holds, growing it to `need`
   * bytes when it is smaller. False when the file has no more bytes, or fewer than `need` from
   * `pos` (nothing is read then).
   */
  async more(need: number): Promise<boolean> {
    const start = this.offset + this.pos;
    if (this.offset + this.length >= this.#size || start + need > this.#size) return false;
    if (this.pos > 0) {
      this.bytes.copyWithin(0, this.pos, this.length);
      this.offset = start;
      this.length -= this.pos;
      this.pos = 0;
    }
    if (need > this.bytes.length) {
      const grown = Buffer.allocUnsafe(need);
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    const { bytesRead } = await this.#handle.read(
      this.bytes,
      this.length,
      this.bytes.length - this.length,
      this.offset + this.length,
    );
    this.length += bytesRead;
    return bytesRead > 0;
  }
}
