/**
 * @module `Spool`: the durable disk {@link Outbox} of one pipeline. Offered records are encoded
 * as checksummed entries (spool-format.ts) and written to append-only segment files in group
 * commits: every frame offered while the previous write runs goes into the next single write
 * (never one write per record: SD cards wear), fsynced per the `fsync` policy. `flushed()`
 * resolves when what was offered is durable; the pipeline commits MQTT acks only then.
 * The forwarder reads records back from the files (so the backlog is bounded by disk, not
 * memory); acknowledged positions are persisted in `cursor.json` and fully acknowledged segments
 * deleted. On open, a torn tail of the newest segment is truncated; a corrupted entry or segment
 * met while reading is skipped, counted (`corruptRecords`, by sequence gap) and logged, and the
 * records after it are delivered.
 */
import { unlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { FRAME_HEADER_BYTES, FRAME_MAGIC } from '../../runtime/index.js';
import type { Outbox, OutboxBatch } from '../outbox/outbox.js';
import { RecordsWaiter, type ReadyState } from '../outbox/records-waiter.js';
import { SpoolOpenError, SpoolWriteError } from './errors.js';
import { CursorWriter } from './spool-cursor.js';
import {
  ENTRY_HEADER_BYTES,
  checkEntry,
  entryRecordLength,
  entrySeq,
  findNextEntry,
  recordSize,
  segmentName,
  writeEntry,
} from './spool-format.js';
import { resolveSpoolOptions } from './spool-options.js';
import { SegmentChunks } from './segment-chunks.js';
import { MAX_RECORD_BYTES, recoverSpool, syncDirectory } from './spool-recovery.js';
import type { Segment } from './spool-recovery.js';
import type { ResolvedSpoolOptions, SpoolOptions } from './spool-options.js';

/** A run of records of one offered frame, waiting for the next group commit. */
interface PendingRun {
  frame: Uint8Array;
  start: number;
  end: number;
  count: number;
}

/** A batch handed to the forwarder, with the position after its last record. */
interface TakenBatch {
  batch: OutboxBatch;
  endSeq: number;
  endSegment: number;
  endOffset: number;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The pipeline may never ask for it (a run accepted on close): no unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** The durable disk {@link Outbox}. Open with {@link Spool.open}. */
export class Spool implements Outbox {
  readonly #o: ResolvedSpoolOptions;
  readonly #logger: Logger;
  readonly #segments: Segment[];
  readonly #cursor: CursorWriter;
  #writer: FileHandle;
  /** Sequence number the next offered record gets. */
  #nextSeq: number;
  /** Sequence number after the last committed (written) record. */
  #committedSeq: number;
  /** Sequence number of the next record to read. */
  #readSeq: number;
  #readIndex = 0;
  #readOffset: number;
  #ackSeq: number;
  #ackSegment: number;
  #ackOffset: number;
  readonly #taken: TakenBatch[] = [];
  #inflight = 0;
  #pending: PendingRun[] = [];
  #pendingBytes = 0;
  #pendingCount = 0;
  #pendingDone: Deferred | undefined;
  #writing: Deferred | undefined;
  #writingBytes = 0;
  /** Bytes of all segment files (committed). */
  #diskBytes = 0;
  #full = false;
  #closed = false;
  #failed: Error | undefined;
  #peak = 0;
  #readySince = 0;
  #dirty = false;
  #roomWaiters: (() => void)[] = [];
  readonly #recordsWaiter = new RecordsWaiter();
  readonly #readyState: ReadyState = {
    closed: () => this.#closed,
    ready: () => this.ready,
    readyBytes: () => this.#readyBytes(),
    readySince: () => this.#readySince,
  };
  #fsyncTimer: ReturnType<typeof setInterval> | undefined;
  #ageTimer: ReturnType<typeof setInterval> | undefined;
  readonly #chunks = new SegmentChunks();
  #stage = Buffer.alloc(1 << 16);
  #shutdown: Promise<void> | undefined;
  /** Records dropped by the `drop-oldest` policy before they were sent. */
  dropped = 0;
  /** Records dropped because they outlived `maxAgeMs` before they were sent. */
  expired = 0;
  /** Records lost to corruption (counted by sequence gaps). */
  corruptRecords = 0;
  /** Corrupted regions skipped (entries or segment tails). */
  corruptRegions = 0;
  /** Bytes cut from the newest segment's torn tail when the spool was opened. */
  truncatedBytes = 0;
  /** Group commits written (one write, and one fsync under `always`, each). */
  commits = 0;

  private constructor(
    options: ResolvedSpoolOptions,
    segments: Segment[],
    writer: FileHandle,
    nextSeq: number,
    readSeq: number,
    readOffset: number,
  ) {
    this.#o = options;
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#segments = segments;
    this.#writer = writer;
    this.#cursor = new CursorWriter(options.dir);
    this.#nextSeq = nextSeq;
    this.#committedSeq = nextSeq;
    this.#readSeq = readSeq;
    this.#readOffset = readOffset;
    this.#ackSeq = readSeq;
    this.#ackSegment = (segments[0] as Segment).first;
    this.#ackOffset = readOffset;
    for (const segment of segments) this.#diskBytes += segment.size;
    if (this.ready > 0) this.#readySince = 0;
    if (options.fsync === 'interval') {
      this.#fsyncTimer = setInterval(() => void this.#syncIfDirty(), options.fsyncIntervalMs);
      this.#fsyncTimer.unref?.();
    }
    if (options.maxAgeMs > 0) {
      this.#ageTimer = setInterval(
        () => this.#expire(),
        Math.max(100, Math.min(60_000, options.maxAgeMs / 4)),
      );
      this.#ageTimer.unref?.();
      this.#expire();
    }
  }

  /**
   * Opens (or creates) the spool in `options.dir`: finds the segments, resumes after the
   * persisted acknowledged position, truncates a torn tail of the newest segment.
   * @throws SpoolOptionsError, SpoolOpenError
   */
  static async open(options: SpoolOptions): Promise<Spool> {
    const o = resolveSpoolOptions(options);
    const logger = o.logger ?? pino({ level: 'silent' });
    try {
      const r = await recoverSpool(o, logger);
      const spool = new Spool(o, r.segments, r.writer, r.nextSeq, r.readSeq, r.readOffset);
      spool.truncatedBytes = r.truncatedBytes;
      if (spool.depth > 0) {
        logger.info(
          { records: spool.depth, bytes: spool.bytes, dir: o.dir },
          'spool: resuming with records not yet acknowledged upstream',
        );
      }
      return spool;
    } catch (error) {
      throw new SpoolOpenError(
        `spool: cannot open ${o.dir}: ${(error as Error).message} (check the directory's permissions and free space)`,
        { cause: error },
      );
    }
  }

  /** Records held survive a restart. */
  readonly durable = true;
  /** Unbounded in records: the spool is bounded by bytes (`maxBytes`). */
  get capacity(): number {
    return Number.MAX_SAFE_INTEGER;
  }
  get depth(): number {
    return this.#nextSeq - this.#readSeq + this.#inflight;
  }
  get peakDepth(): number {
    return this.#peak;
  }
  get ready(): number {
    return this.#committedSeq - this.#readSeq;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** Bytes held for upstream (entries not acknowledged, pending writes included). */
  get bytes(): number {
    const oldest = this.#segments[0];
    const acked = oldest !== undefined && oldest.first === this.#ackSegment ? this.#ackOffset : 0;
    return this.#diskBytes + this.#writingBytes + this.#pendingBytes - acked;
  }
  /** The byte budget (`maxBytes`). */
  get maxBytes(): number {
    return this.#o.maxBytes;
  }
  /**
   * Age of the oldest record not yet sent, in ms (an upper bound: the age of the segment it is
   * in); 0 when none waits.
   */
  get oldestAgeMs(): number {
    if (this.#readSeq >= this.#committedSeq) return 0;
    const segment = this.#segments[this.#readIndex];
    return segment === undefined ? 0 : Math.max(0, Date.now() - segment.createdAt);
  }
  /** Segment files on disk. */
  get segmentCount(): number {
    return this.#segments.length;
  }

  offer(frame: Uint8Array, skip = 0): number {
    if (this.#closed || this.#full || this.#failed !== undefined) return 0;
    const total = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(4, true);
    if (skip >= total) return 0;
    const block = this.#o.onFull === 'block';
    const room = block ? this.#o.maxBytes - this.bytes : Number.POSITIVE_INFINITY;
    let pos = FRAME_HEADER_BYTES;
    for (let i = 0; i < skip; i++) pos += recordSize(frame, pos);
    const start = pos;
    let added = 0;
    let count = 0;
    while (count < total - skip) {
      const size = recordSize(frame, pos);
      if (added + size + ENTRY_HEADER_BYTES > room) break;
      added += size + ENTRY_HEADER_BYTES;
      pos += size;
      count++;
    }
    if (count < total - skip) {
      this.#full = true;
      this.#logger.warn(
        { bytes: this.bytes, maxBytes: this.#o.maxBytes },
        'spool full: upstream is behind by the whole budget; pausing ingest (policy block)',
      );
    }
    if (count === 0) return 0;
    this.#pending.push({ frame, start, end: pos, count });
    this.#pendingBytes += added;
    this.#pendingCount += count;
    this.#nextSeq += count;
    this.#pendingDone ??= deferred();
    if (this.depth > this.#peak) this.#peak = this.depth;
    if (this.#writing === undefined) void this.#writeLoop();
    if (!block) this.#enforceBudget();
    return count;
  }

  /**
   * Resolves when every record offered so far is written (and fsynced under `fsync: always`);
   * undefined when nothing is pending.
   * @throws SpoolWriteError (the promise rejects) when the write failed.
   */
  flushed(): Promise<void> | undefined {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    if (this.#pendingDone !== undefined) return this.#pendingDone.promise;
    return this.#writing?.promise;
  }

  waitForRoom(): Promise<void> {
    if (!this.#full || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  take(maxRecords: number, maxBytes: number): OutboxBatch | undefined {
    let count = 0;
    let bytes = 0;
    const segments = this.#segments;
    while (count < maxRecords && this.#readSeq < this.#committedSeq) {
      const segment = segments[this.#readIndex] as Segment;
      if (this.#readOffset >= segment.size) {
        if (this.#readIndex === segments.length - 1) break;
        this.#closeReader(segment);
        this.#readIndex++;
        this.#readOffset = 0;
        this.#skipTo((segments[this.#readIndex] as Segment).first, segment, segment.size);
        continue;
      }
      const chunks = this.#chunks;
      const at = chunks.load(segment, this.#readOffset, ENTRY_HEADER_BYTES);
      const length = at < 0 ? -1 : entryRecordLength(chunks.bytes, at);
      const entryAt =
        length < 0 || length > MAX_RECORD_BYTES
          ? -1
          : chunks.load(segment, this.#readOffset, ENTRY_HEADER_BYTES + length);
      const size =
        entryAt < 0 ? -1 : checkEntry(chunks.bytes, entryAt, chunks.length, MAX_RECORD_BYTES);
      if (size <= 0) {
        this.#resync(segment);
        continue;
      }
      const seq = entrySeq(chunks.bytes, entryAt);
      if (seq < this.#readSeq) {
        this.#readOffset += size;
        continue;
      }
      const recordBytes = size - ENTRY_HEADER_BYTES;
      if (count > 0 && bytes + recordBytes > maxBytes) break;
      if (seq > this.#readSeq) this.#skipTo(seq, segment, this.#readOffset);
      if (bytes + recordBytes > this.#stage.length) {
        const grown = Buffer.alloc(Math.max(this.#stage.length * 2, bytes + recordBytes));
        this.#stage.copy(grown, 0, 0, bytes);
        this.#stage = grown;
      }
      chunks.bytes.copy(this.#stage, bytes, entryAt + ENTRY_HEADER_BYTES, entryAt + size);
      bytes += recordBytes;
      count++;
      this.#readSeq = seq + 1;
      this.#readOffset += size;
    }
    if (count === 0) return undefined;
    const frame = new Uint8Array(FRAME_HEADER_BYTES + bytes);
    const view = new DataView(frame.buffer);
    view.setUint32(0, FRAME_MAGIC, true);
    view.setUint32(4, count, true);
    view.setUint32(8, frame.byteLength, true);
    frame.set(this.#stage.subarray(0, bytes), FRAME_HEADER_BYTES);
    const batch: OutboxBatch = { frame, count, bytes };
    this.#taken.push({
      batch,
      endSeq: this.#readSeq,
      endSegment: (segments[this.#readIndex] as Segment).first,
      endOffset: this.#readOffset,
    });
    this.#inflight += count;
    this.#readySince = Date.now();
    return batch;
  }

  ack(batch: OutboxBatch): void {
    const index = this.#taken.findIndex((taken) => taken.batch === batch);
    if (index < 0) return;
    const taken = this.#taken[index] as TakenBatch;
    this.#taken.splice(index, 1);
    this.#inflight -= batch.count;
    if (taken.endSeq > this.#ackSeq) {
      this.#ackSeq = taken.endSeq;
      this.#ackSegment = taken.endSegment;
      this.#ackOffset = taken.endOffset;
    }
    this.#deleteAcknowledged();
    this.#cursor.save({ seq: this.#ackSeq, segment: this.#ackSegment, offset: this.#ackOffset });
    this.#checkRoom();
  }

  waitForRecords(minRecords: number, minBytes: number, lingerMs: number): Promise<void> {
    const waiting = this.#recordsWaiter.wait(minRecords, minBytes, lingerMs);
    this.#recordsWaiter.check(this.#readyState);
    return waiting;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const resolve of waiters) resolve();
    this.#recordsWaiter.resolve();
  }

  /**
   * Closes the spool, finishes the group commit in progress, fsyncs (unless `fsync: never`),
   * persists the cursor and closes every file. Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #doShutdown(): Promise<void> {
    this.close();
    if (this.#fsyncTimer !== undefined) clearInterval(this.#fsyncTimer);
    if (this.#ageTimer !== undefined) clearInterval(this.#ageTimer);
    while (this.#writing !== undefined) await this.#writing.promise.catch(() => undefined);
    if (this.#o.fsync !== 'never') await this.#writer.datasync().catch(() => undefined);
    await this.#writer.close().catch(() => undefined);
    await this.#cursor.flush();
    for (const segment of this.#segments) this.#closeReader(segment);
  }

  async #writeLoop(): Promise<void> {
    while (this.#pending.length > 0 && this.#failed === undefined) {
      const runs = this.#pending;
      const bytes = this.#pendingBytes;
      const count = this.#pendingCount;
      const done = this.#pendingDone as Deferred;
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#pendingCount = 0;
      this.#pendingDone = undefined;
      this.#writing = done;
      this.#writingBytes = bytes;
      try {
        const buffer = Buffer.allocUnsafe(bytes);
        let pos = 0;
        let seq = this.#committedSeq;
        for (const run of runs) {
          let at = run.start;
          for (let i = 0; i < run.count; i++) {
            const size = recordSize(run.frame, at);
            pos = writeEntry(buffer, pos, run.frame, at, at + size, seq++);
            at += size;
          }
        }
        let active = this.#segments[this.#segments.length - 1] as Segment;
        if (active.size > 0 && active.size + bytes > this.#o.segmentBytes) {
          active = await this.#rotate();
        }
        await this.#writer.write(buffer, 0, bytes, active.size);
        if (this.#o.fsync === 'always') await this.#writer.datasync();
        else this.#dirty = true;
        this.commits++;
        active.size += bytes;
        active.writtenAt = Date.now();
        this.#diskBytes += bytes;
        this.#writingBytes = 0;
        if (this.ready === 0) this.#readySince = Date.now();
        this.#committedSeq += count;
        this.#writing = undefined;
        done.resolve();
        this.#recordsWaiter.check(this.#readyState);
      } catch (error) {
        this.#writingBytes = 0;
        this.#writing = undefined;
        this.#failed = new SpoolWriteError(
          `spool: writing to ${this.#o.dir} failed: ${(error as Error).message}; ` +
            `the pipeline stops acknowledging messages (free disk space and restart)`,
          { cause: error },
        );
        this.#logger.error({ err: error, dir: this.#o.dir }, 'spool write failed');
        // Offers are refused from now on; `full` parks the pipeline instead of spinning.
        this.#full = true;
        done.reject(this.#failed);
        (this.#pendingDone as Deferred | undefined)?.reject(this.#failed);
      }
    }
  }

  async #rotate(): Promise<Segment> {
    if (this.#o.fsync !== 'never') await this.#writer.datasync();
    await this.#writer.close();
    const first = this.#committedSeq;
    const path = join(this.#o.dir, segmentName(first));
    this.#writer = await open(path, 'w');
    if (this.#o.fsync !== 'never') await syncDirectory(this.#o.dir);
    this.#dirty = false;
    const now = Date.now();
    const segment: Segment = {
      first,
      path,
      size: 0,
      writtenAt: now,
      createdAt: now,
      fd: undefined,
    };
    this.#segments.push(segment);
    return segment;
  }

  async #syncIfDirty(): Promise<void> {
    if (!this.#dirty || this.#closed) return;
    this.#dirty = false;
    await this.#writer.datasync().catch(() => undefined);
  }

  /** The entry at the read position is invalid: skips to the next valid one in the segment. */
  #resync(segment: Segment): void {
    const from = this.#readOffset;
    const { bytes: rest, length: read } = this.#chunks.readRest(segment, from);
    const next = findNextEntry(rest, 1, read, MAX_RECORD_BYTES);
    const skippedTo = next < 0 ? segment.size : from + next;
    this.corruptRegions++;
    this.#logger.error(
      { segment: segment.path, offset: from, bytes: skippedTo - from },
      'spool: corrupted data skipped (checksum or framing error); later records are still delivered',
    );
    this.#readOffset = skippedTo;
    if (next >= 0) this.#skipTo(entrySeq(rest, next), segment, from);
  }

  /** Records before `seq` not read yet are gone (corruption): counts and skips them. */
  #skipTo(seq: number, segment: Segment, offset: number): void {
    if (seq <= this.#readSeq) return;
    const lost = Math.min(seq, this.#committedSeq) - this.#readSeq;
    this.corruptRecords += lost;
    this.#logger.error(
      { segment: segment.path, offset, records: lost },
      'spool: records lost to corruption',
    );
    this.#readSeq = Math.min(seq, this.#committedSeq);
  }

  #closeReader(segment: Segment): void {
    this.#chunks.close(segment);
  }

  /** Deletes the segments every record of which is acknowledged (never the active one). */
  #deleteAcknowledged(): void {
    const segments = this.#segments;
    while (segments.length > 1 && (segments[1] as Segment).first <= this.#ackSeq) {
      if (this.#readIndex === 0) break;
      this.#removeOldest();
    }
  }

  #removeOldest(): void {
    const segment = this.#segments.shift() as Segment;
    this.#closeReader(segment);
    this.#diskBytes -= segment.size;
    if (this.#readIndex > 0) this.#readIndex--;
    try {
      unlinkSync(segment.path);
    } catch (error) {
      this.#logger.warn({ err: error, segment: segment.path }, 'spool: cannot delete a segment');
    }
  }

  /**
   * Drops the oldest segment (not the active one), counting the records in it not yet taken.
   * @returns how many records were dropped, or -1 when only the active segment is left.
   */
  #dropOldest(): number {
    const segments = this.#segments;
    if (segments.length < 2) return -1;
    const oldest = segments[0] as Segment;
    const end = (segments[1] as Segment).first;
    const unsent = Math.max(0, end - Math.max(this.#readSeq, oldest.first));
    if (this.#readIndex === 0) {
      this.#readIndex = 1;
      this.#readOffset = 0;
    }
    if (this.#readSeq < end) this.#readSeq = end;
    if (this.#ackSeq < end) {
      this.#ackSeq = end;
      this.#ackSegment = end;
      this.#ackOffset = 0;
    }
    this.#removeOldest();
    this.#cursor.save({ seq: this.#ackSeq, segment: this.#ackSegment, offset: this.#ackOffset });
    return unsent;
  }

  #enforceBudget(): void {
    let dropped = 0;
    while (this.bytes > this.#o.maxBytes) {
      const n = this.#dropOldest();
      if (n < 0) break;
      dropped += n;
    }
    if (dropped > 0) {
      this.dropped += dropped;
      this.#logger.warn(
        { records: dropped, totalDropped: this.dropped, maxBytes: this.#o.maxBytes },
        'spool full: oldest records dropped (policy drop-oldest)',
      );
    }
  }

  #expire(): void {
    const limit = Date.now() - this.#o.maxAgeMs;
    let expired = 0;
    while (this.#segments.length > 1 && (this.#segments[0] as Segment).writtenAt < limit) {
      expired += this.#dropOldest();
    }
    if (expired > 0) {
      this.expired += expired;
      this.#logger.warn(
        { records: expired, maxAgeMs: this.#o.maxAgeMs },
        'spool: records older than maxAgeMs dropped before they were sent',
      );
    }
    this.#checkRoom();
  }

  #checkRoom(): void {
    if (!this.#full || this.bytes > this.#o.maxBytes * this.#o.lowWaterRatio) return;
    this.#full = false;
    this.#logger.info({ bytes: this.bytes }, 'spool below low water: resuming');
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #readyBytes(): number {
    let bytes = -this.#readOffset;
    for (let i = this.#readIndex; i < this.#segments.length; i++) {
      bytes += (this.#segments[i] as Segment).size;
    }
    return bytes;
  }
}
