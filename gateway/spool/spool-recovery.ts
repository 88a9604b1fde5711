/**
 * @module Opening a spool directory after a clean stop or a crash: lists the segments, deletes
 * those fully behind the persisted cursor, scans the newest one and truncates its torn tail (a
 * write cut short by a crash), finds where reading resumes, and creates the segment new records
 * go to (a recovered segment is never appended to). The newest rule-state checkpoint found is
 * written first in that new segment, so that it outlives the deletion of the old ones.
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rename, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { readCursors } from './spool-cursor.js';
import type { SpoolCursor } from './spool-cursor.js';
import { scanEntries } from './entry-scan.js';
import {
  entrySeq,
  isStateEntry,
  parseSegmentName,
  segmentName,
  writeStateEntry,
} from './spool-format.js';
import { ENTRY_HEADER_BYTES } from './spool-format.js';
import { DurableState, findCheckpoint } from './spool-state.js';
import type { RestoredCheckpoint, ScannedStateEntries } from './spool-state.js';
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
  /** Where each reader of `readers` resumes. */
  starts: Map<string, ReaderStart>;
  truncatedBytes: number;
  /** The newest checkpoint found (rule states and recent event identities). */
  checkpoint: RestoredCheckpoint | undefined;
  /** The durable state the next segments start with. */
  state: DurableState;
}

/** Where a reader resumes: its first record not acknowledged, and where that is. */
export interface ReaderStart {
  seq: number;
  /** Index of the segment in `segments`. */
  index: number;
  /** Byte offset in that segment. */
  offset: number;
}

/**
 * Recovers the spool directory `o.dir` (created when missing) for the readers `readers`: a
 * reader with a persisted cursor resumes there, a new one at the oldest record held; the
 * cursors of readers no longer listed are ignored (and dropped at the next save).
 */
export async function recoverSpool(
  o: ResolvedSpoolOptions,
  readers: readonly string[],
  logger: Logger,
): Promise<RecoveredSpool> {
  await mkdir(o.dir, { recursive: true });
  const firsts: number[] = [];
  for (const name of await readdir(o.dir)) {
    const first = parseSegmentName(name);
    if (first !== undefined) firsts.push(first);
  }
  firsts.sort((a, b) => a - b);
  const saved = await readCursors(o.dir);
  // The newest segment is scanned once: for its torn tail, its last sequence number and its
  // state entries (the newest checkpoint is most likely there).
  const newest = firsts[firsts.length - 1];
  const tail =
    newest === undefined ? undefined : await scanTail(join(o.dir, segmentName(newest)), newest);
  const checkpoint = await findCheckpoint(
    firsts.map((first) => join(o.dir, segmentName(first))),
    o.identityWindow,
    MAX_RECORD_BYTES,
    tail?.stateEntries,
  );
  const state = new DurableState(o.identityWindow, checkpoint);
  const cursors = new Map<string, SpoolCursor>();
  for (const name of readers) {
    const cursor = saved.readers.get(name) ?? saved.legacy;
    if (cursor !== undefined) cursors.set(name, cursor);
  }
  // Segments every reader with a cursor acknowledged go (a removed reader's cursor no longer
  // holds them); a reader without a cursor (a sink added) starts at the oldest one left.
  let cursor: SpoolCursor | undefined;
  for (const c of cursors.values()) if (cursor === undefined || c.seq < cursor.seq) cursor = c;
  let maxSeq = 0;
  for (const c of cursors.values()) if (c.seq > maxSeq) maxSeq = c.seq;
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
  let nextSeq = maxSeq;
  let truncatedBytes = 0;
  const last = segments[segments.length - 1];
  if (last !== undefined) {
    // The newest segment is never deleted above: `last` is the one scanned first.
    const scanned = tail as TailScan;
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
    // Empty, or holding state entries only (no record at or after its first sequence number):
    // the new segment replaces it under the same name (its state is carried over below).
    if (last.size === 0 || last.first === nextSeq) {
      if (last.size === 0) await unlink(last.path);
      segments.pop();
    }
  }
  // New records go to a new segment, so a recovered one is never appended to.
  const path = join(o.dir, segmentName(nextSeq));
  const { writer, size } = await createSegmentFile(o, path, nextSeq, state);
  const now = Date.now();
  segments.push({
    first: nextSeq,
    path,
    size,
    writtenAt: now,
    createdAt: now,
    fd: undefined,
  });
  const starts = new Map<string, ReaderStart>();
  for (const name of readers) starts.set(name, readerStart(segments, cursors.get(name)));
  return { segments, writer, nextSeq, starts, truncatedBytes, checkpoint, state };
}

/**
 * Creates the segment file `path` (first sequence number `first`) starting with a self-contained
 * state entry when a checkpoint is known. Written under a temporary name, fsynced and renamed, so
 * that it may atomically replace a segment of that name holding state entries only.
 */
export async function createSegmentFile(
  o: ResolvedSpoolOptions,
  path: string,
  first: number,
  state: DurableState,
): Promise<{ writer: FileHandle; size: number }> {
  const temporary = `${path}.tmp`;
  const writer = await open(temporary, 'w');
  let size = 0;
  if (state.known) {
    const payload = state.basePayload();
    const entry = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + payload.length);
    size = writeStateEntry(entry, 0, payload, first);
    await writer.write(entry, 0, size, 0);
    if (o.fsync !== 'never') await writer.datasync();
  }
  await rename(temporary, path);
  if (o.fsync !== 'never') await syncDirectory(o.dir);
  return { writer, size };
}

/**
 * Where a reader with `cursor` resumes in `segments` (the last one is the new, empty, active
 * one): at the cursor when its segment is held, else at the oldest held record after it.
 */
function readerStart(segments: readonly Segment[], cursor: SpoolCursor | undefined): ReaderStart {
  const oldest = segments[0] as Segment;
  if (cursor === undefined || cursor.seq <= oldest.first) {
    return { seq: oldest.first, index: 0, offset: 0 };
  }
  let index = 0;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as Segment;
    if (segment.first === cursor.segment) {
      // The active segment was just written afresh (a state entry at most): read it from its start.
      const offset = i === segments.length - 1 ? 0 : Math.min(cursor.offset, segment.size);
      return { seq: cursor.seq, index: i, offset };
    }
    // Otherwise start at the segment holding cursor.seq; the reader skips older entries.
    if (segment.first <= cursor.seq) index = i;
  }
  const last = segments.length - 1;
  const seq = index === last ? (segments[last] as Segment).first : cursor.seq;
  return { seq, index, offset: 0 };
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

/** What a scan of the newest segment found. */
interface TailScan {
  /** The end of its valid entries. */
  validEnd: number;
  /** The sequence number after its last entry. */
  nextSeq: number;
  stateEntries: ScannedStateEntries;
}

/** Scans the segment file `path` whose first sequence number is `first`. */
async function scanTail(path: string, first: number): Promise<TailScan> {
  let nextSeq = first;
  const entries: number[] = [];
  const validEnd = await scanEntries(
    path,
    { maxRecord: MAX_RECORD_BYTES },
    (bytes, pos, size, offset) => {
      // A state entry's sequence number is the next record's.
      const seq = entrySeq(bytes, pos);
      if (isStateEntry(bytes, pos)) {
        nextSeq = Math.max(nextSeq, seq);
        entries.push(offset, size);
      } else nextSeq = seq + 1;
    },
  );
  return { validEnd, nextSeq, stateEntries: { path, entries } };
}
