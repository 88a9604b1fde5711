/**
 * @module Opening a spool directory after a clean stop or a crash: lists the segments, deletes
 * those fully behind the persisted cursor, scans the newest one and truncates its torn tail (a
 * write cut short by a crash), finds where reading resumes, and creates the segment new records
 * go to (a recovered segment is never appended to).
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readCursor } from './spool-cursor.js';
import {
  checkEntry,
  entrySeq,
  findNextEntry,
  parseSegmentName,
  segmentName,
} from './spool-format.js';
import type { ResolvedSpoolOptions } from './spool-options.js';

/** Largest record the reader considers plausible (a frame is at most 4 GiB; batches far less). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** One segment file. */
export interface Segment {
  /** Sequence number of its first record (its name). */
  readonly first: number;
  readonly path: string;
  /** Bytes written and committed (readable). */
  size: number;
  /** When its newest record was written (ms since the epoch). */
  writtenAt: number;
  /** When its first record was written (ms since the epoch; the file's mtime for old ones). */
  readonly createdAt: number;
  /** Read descriptor, opened lazily. */
  fd: number | undefined;
}

/** What {@link recoverSpool} found. */
export interface RecoveredSpool {
  /** Oldest first; the last one is the new, empty, active segment. */
  segments: Segment[];
  /** Open for writing the active segment. */
  writer: FileHandle;
  nextSeq: number;
  readSeq: number;
  /** Byte offset of the read position in `segments[0]`. */
  readOffset: number;
  truncatedBytes: number;
}

/** Recovers the spool directory `o.dir` (created when missing). */
export async function recoverSpool(
  o: ResolvedSpoolOptions,
  logger: Logger,
): Promise<RecoveredSpool> {
  await mkdir(o.dir, { recursive: true });
  const firsts: number[] = [];
  for (const name of await readdir(o.dir)) {
    const first = parseSegmentName(name);
    if (first !== undefined) firsts.push(first);
  }
  firsts.sort((a, b) => a - b);
  const cursor = await readCursor(o.dir);
  const segments: Segment[] = [];
  for (let i = 0; i < firsts.length; i++) {
    const first = firsts[i] as number;
    const path = join(o.dir, segmentName(first));
    const next = firsts[i + 1];
    // Fully acknowledged (a later segment starts at or before the cursor): delete it.
    if (cursor !== undefined && next !== undefined && next <= cursor.seq) {
      await unlink(path);
      continue;
    }
    const info = await stat(path);
    segments.push({
      first,
      path,
      size: info.size,
      writtenAt: info.mtimeMs,
      createdAt: Math.min(info.birthtimeMs || info.mtimeMs, info.mtimeMs),
      fd: undefined,
    });
  }
  let nextSeq = cursor?.seq ?? 0;
  let truncatedBytes = 0;
  const last = segments[segments.length - 1];
  if (last !== undefined) {
    const scanned = await scanTail(last);
    nextSeq = Math.max(nextSeq, scanned.nextSeq);
    if (scanned.validEnd < last.size) {
      truncatedBytes = last.size - scanned.validEnd;
      await truncate(last.path, scanned.validEnd);
      logger.warn(
        { segment: last.path, offset: scanned.validEnd, bytes: truncatedBytes },
        'spool: torn tail of the newest segment truncated (a write cut by a crash)',
      );
      last.size = scanned.validEnd;
    }
    if (last.size === 0) {
      await unlink(last.path);
      segments.pop();
    }
  }
  let readSeq = cursor?.seq ?? segments[0]?.first ?? nextSeq;
  let readOffset = 0;
  const oldest = segments[0];
  if (oldest !== undefined && cursor !== undefined && oldest.first === cursor.segment) {
    readOffset = Math.min(cursor.offset, oldest.size);
  } else if (oldest !== undefined && oldest.first > readSeq) {
    readSeq = oldest.first;
  }
  if (segments.length === 0) readSeq = nextSeq;
  // New records go to a new segment, so a recovered one is never appended to.
  const path = join(o.dir, segmentName(nextSeq));
  const writer = await open(path, 'w');
  if (o.fsync !== 'never') await syncDirectory(o.dir);
  const now = Date.now();
  segments.push({
    first: nextSeq,
    path,
    size: 0,
    writtenAt: now,
    createdAt: now,
    fd: undefined,
  });
  return { segments, writer, nextSeq, readSeq, readOffset, truncatedBytes };
}

/**
 * fsyncs a directory, so that a segment file created in it survives a power cut along with the
 * data fsynced into it (POSIX leaves the directory entry to a separate fsync).
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the data fsync still holds there.
  } finally {
    await handle.close();
  }
}

/** The end of the valid entries of `segment` and the sequence number after the last one. */
async function scanTail(segment: Segment): Promise<{ validEnd: number; nextSeq: number }> {
  const bytes = await readFile(segment.path);
  let pos = 0;
  let validEnd = 0;
  let nextSeq = segment.first;
  while (pos < bytes.length) {
    const size = checkEntry(bytes, pos, bytes.length, MAX_RECORD_BYTES);
    if (size > 0) {
      nextSeq = entrySeq(bytes, pos) + 1;
      pos += size;
      validEnd = pos;
      continue;
    }
    // Invalid or cut short: corruption in the middle when a valid entry follows, else a torn tail.
    const next = findNextEntry(bytes, pos + 1, bytes.length, MAX_RECORD_BYTES);
    if (next < 0) break;
    pos = next;
  }
  return { validEnd, nextSeq };
}
