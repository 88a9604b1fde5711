/**
 * @module `Spool`: the durable disk {@link Outbox} of one pipeline, the facade over its write
 * side (spool-writer.ts: group commits to append-only segment files, fsynced per the `fsync`
 * policy) and its read side (spool-reader.ts: records read back from the files, so the backlog
 * is bounded by disk, not memory). `flushed()` resolves when what was offered is durable; the
 * pipeline commits MQTT acks only then. The spool owns the byte budget (`block` or
 * `drop-oldest`), the age limit and the acknowledged position persisted in `cursor.json`; which
 * segments are deleted or dropped is spool-retention.ts. On open, a torn tail of the newest
 * segment is truncated (spool-recovery.ts).
 *
 * Rule-state checkpoints: a pipeline registers a {@link CheckpointSource}; `checkpoint()` asks
 * for a group commit (even with no record pending) that appends its state entry after the
 * records, in the same write and fsync; the newest checkpoint found on open is
 * `restoredCheckpoint` (spool-state.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { FRAME_HEADER_BYTES, frameRecordCount } from '../../runtime/index.js';
import type { Outbox, OutboxReader } from '../outbox/outbox.js';
import { SpoolOpenError } from './errors.js';
import { CursorWriter } from './spool-cursor.js';
import type { SpoolCursor } from './spool-cursor.js';
import { ENTRY_HEADER_BYTES, recordSize } from './spool-format.js';
import { resolveSpoolOptions } from './spool-options.js';
import { recoverSpool } from './spool-recovery.js';
import type { ReaderStart, Segment } from './spool-recovery.js';
import type { ResolvedSpoolOptions, SpoolOptions } from './spool-options.js';
import { SpoolReader } from './spool-reader.js';
import { SpoolRetention } from './spool-retention.js';
import { SpoolWriter } from './spool-writer.js';
import type { CheckpointSource, DurableState, RestoredCheckpoint } from './spool-state.js';

/** The durable disk {@link Outbox}. Open with {@link Spool.open}. */
export class Spool implements Outbox {
  readonly #o: ResolvedSpoolOptions;
  readonly #logger: Logger;
  readonly #cursor: CursorWriter;
  readonly #writer: SpoolWriter;
  readonly #readers: SpoolReader[] = [];
  readonly #retention: SpoolRetention;
  #full = false;
  #closed = false;
  #peak = 0;
  #roomWaiters: (() => void)[] = [];
  #fsyncTimer: ReturnType<typeof setInterval> | undefined;
  #ageTimer: ReturnType<typeof setInterval> | undefined;
  #shutdown: Promise<void> | undefined;
  /** Bytes cut from the newest segment's torn tail when the spool was opened. */
  truncatedBytes = 0;
  #restored: RestoredCheckpoint | undefined;

  private constructor(
    options: ResolvedSpoolOptions,
    segments: Segment[],
    writer: FileHandle,
    nextSeq: number,
    starts: Map<string, ReaderStart>,
    state: DurableState,
  ) {
    this.#o = options;
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#cursor = new CursorWriter(options.dir);
    this.#writer = new SpoolWriter(options, this.#logger, segments, writer, nextSeq, state, {
      committed: (count) => {
        for (const reader of this.#readers) reader.committed(count);
      },
      failed: () => {
        // Offers are refused from now on; `full` parks the pipeline instead of spinning.
        this.#full = true;
      },
      rewritten: (segment) => {
        for (const reader of this.#readers) reader.segmentRewritten(segment);
        this.#saveCursors();
      },
    });
    this.#retention = new SpoolRetention({
      writer: this.#writer,
      readers: this.#readers,
      logger: this.#logger,
      maxBytes: options.maxBytes,
      maxAgeMs: options.maxAgeMs,
      bytes: () => this.bytes,
      saveCursors: () => this.#saveCursors(),
    });
    for (const [name, start] of starts) this.#addReader(name, start).resumeBacklog();
    // Cursors of readers no longer configured go now.
    this.#saveCursors();
    if (options.fsync === 'interval') {
      this.#fsyncTimer = setInterval(
        () => void this.#writer.syncIfDirty(),
        options.fsyncIntervalMs,
      );
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
      const r = await recoverSpool(o, o.readers, logger);
      const spool = new Spool(o, r.segments, r.writer, r.nextSeq, r.starts, r.state);
      spool.truncatedBytes = r.truncatedBytes;
      spool.#restored = r.checkpoint;
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
  /** Records not acknowledged by every reader (the slowest reader's depth). */
  get depth(): number {
    let depth = 0;
    for (const reader of this.#readers) if (reader.depth > depth) depth = reader.depth;
    return depth;
  }
  get peakDepth(): number {
    return this.#peak;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** Bytes held for upstream (entries not acknowledged, pending writes included). */
  get bytes(): number {
    const laggard = this.#retention.laggard();
    return this.#writer.bytes - (laggard === undefined ? 0 : laggard.ackedBytes);
  }
  /** The byte budget (`maxBytes`). */
  get maxBytes(): number {
    return this.#o.maxBytes;
  }
  /**
   * Age of the oldest record not yet sent by some reader, in ms (an upper bound: the age of the
   * segment it is in); 0 when none waits.
   */
  get oldestAgeMs(): number {
    let age = 0;
    for (const reader of this.#readers) if (reader.oldestAgeMs > age) age = reader.oldestAgeMs;
    return age;
  }
  get readers(): readonly OutboxReader[] {
    return this.#readers;
  }
  /** Segment files on disk. */
  get segmentCount(): number {
    return this.#writer.segments.length;
  }
  /** Records dropped by the `drop-oldest` policy before they were sent, summed over readers. */
  get dropped(): number {
    return this.#sum('dropped');
  }
  /** Records dropped because they outlived `maxAgeMs` before they were sent, summed over readers. */
  get expired(): number {
    return this.#sum('expired');
  }
  /** Records lost to corruption (counted by sequence gaps), as the reader that lost most saw it. */
  get corruptRecords(): number {
    return this.#max('corruptRecords');
  }
  /** Corrupted regions skipped (entries or segment tails), as the reader that met most saw it. */
  get corruptRegions(): number {
    return this.#max('corruptRegions');
  }
  /** Group commits written (one write, and one fsync under `always`, each). */
  get commits(): number {
    return this.#writer.commits;
  }
  /** State entries written. */
  get checkpoints(): number {
    return this.#writer.checkpoints;
  }
  /** Bytes written to segment files since open (records and state entries). */
  get bytesWritten(): number {
    return this.#writer.bytesWritten;
  }

  /** The newest rule-state checkpoint found when the spool was opened, if any. */
  get restoredCheckpoint(): RestoredCheckpoint | undefined {
    return this.#restored;
  }

  /** Registers the pipeline whose state entries go into the group commits. */
  setCheckpointSource(source: CheckpointSource): void {
    this.#writer.setCheckpointSource(source);
  }

  /**
   * Asks for a group commit that includes a state entry captured from the source from now on
   * (records pending are written with it); resolves when it is durable. While the source is not
   * consistent, the entry waits: call again once it is.
   * @throws SpoolWriteError (the promise rejects) when the write failed.
   */
  checkpoint(): Promise<void> {
    return this.#writer.checkpoint();
  }

  offer(frame: Uint8Array, skip = 0): number {
    if (this.#closed || this.#full || this.#writer.failed !== undefined) return 0;
    const total = frameRecordCount(frame);
    if (skip >= total) return 0;
    const block = this.#o.onFull === 'block';
    // Room is kept for the state entries of the next commit and the next segment's first one.
    const room = block
      ? this.#o.maxBytes - this.bytes - 2 * this.#writer.stateEntryBytes
      : Number.POSITIVE_INFINITY;
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
    this.#writer.append(frame, start, pos, count, added);
    if (this.depth > this.#peak) this.#peak = this.depth;
    if (!block) this.#retention.enforceBudget();
    return count;
  }

  /**
   * Resolves when every record offered so far is written (and fsynced under `fsync: always`);
   * undefined when nothing is pending.
   * @throws SpoolWriteError (the promise rejects) when the write failed.
   */
  flushed(): Promise<void> | undefined {
    return this.#writer.flushed();
  }

  waitForRoom(): Promise<void> {
    if (!this.#full || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  reader(name: string): OutboxReader {
    for (const reader of this.#readers) if (reader.name === name) return reader;
    // A new reader starts at the oldest record still held: the slowest reader's position.
    const laggard = this.#retention.laggard();
    const segments = this.#writer.segments;
    let start: ReaderStart = { seq: (segments[0] as Segment).first, index: 0, offset: 0 };
    if (laggard !== undefined) {
      const { seq, segment, offset } = laggard.position;
      const index = segments.findIndex((s) => s.first === segment);
      if (index >= 0) start = { seq, index, offset };
    }
    const reader = this.#addReader(name, start);
    this.#saveCursors();
    return reader;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const resolve of waiters) resolve();
    for (const reader of this.#readers) reader.wake();
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
    await this.#writer.close();
    await this.#cursor.flush();
    for (const reader of this.#readers) reader.closeFiles();
  }

  #addReader(name: string, start: ReaderStart): SpoolReader {
    const reader = new SpoolReader(
      name,
      this.#writer,
      start,
      this.#logger,
      () => this.#closed,
      (acked) => this.#acked(acked),
    );
    this.#readers.push(reader);
    return reader;
  }

  /** A reader acknowledged a batch: deletes what every reader acknowledged, saves the cursors. */
  #acked(moved: boolean): void {
    if (!moved) return;
    this.#retention.deleteAcknowledged();
    this.#saveCursors();
    this.#checkRoom();
  }

  #saveCursors(): void {
    const cursors: Record<string, SpoolCursor> = {};
    for (const reader of this.#readers) cursors[reader.name] = reader.position;
    this.#cursor.save(cursors);
  }

  #sum(field: 'dropped' | 'expired'): number {
    let total = 0;
    for (const reader of this.#readers) total += reader[field];
    return total;
  }

  #max(field: 'corruptRecords' | 'corruptRegions'): number {
    let most = 0;
    for (const reader of this.#readers) if (reader[field] > most) most = reader[field];
    return most;
  }

  #expire(): void {
    this.#retention.expire();
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
}
