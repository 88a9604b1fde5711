/**
 * @module The spool's write side: offered records wait as runs of their frames and go to the
 * active segment file in group commits — every frame offered while the previous write runs goes
 * into the next single write (never one write per record: SD cards wear), fsynced per the
 * `fsync` policy — and a segment is closed and a new one started past `segmentBytes`.
 * `flushed()` resolves when what was offered is durable.
 *
 * Rule-state checkpoints: a pipeline registers a {@link CheckpointSource}; `checkpoint()` asks
 * for a group commit (even with no record pending) that appends the source's state entry after
 * the records, in the same write and fsync. Each new segment starts with a self-contained state
 * entry (spool-state.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SpoolWriteError } from './errors.js';
import {
  ENTRY_HEADER_BYTES,
  recordSize,
  segmentName,
  writeEntry,
  writeStateEntry,
} from './spool-format.js';
import type { ResolvedSpoolOptions } from './spool-options.js';
import { createSegmentFile } from './spool-recovery.js';
import type { Segment } from './spool-recovery.js';
import type { CheckpointSource, DurableState } from './spool-state.js';

/** A run of records of one offered frame, waiting for the next group commit. */
interface PendingRun {
  frame: Uint8Array;
  start: number;
  end: number;
  count: number;
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

/** What the spool learns from its writer. */
export interface SpoolWriterEvents {
  /** `count` records were committed (readable); `committedSeq` already counts them. */
  committed(count: number): void;
  /** A write failed: offers must be refused from now on. */
  failed(error: Error): void;
  /**
   * The active segment, which held state entries only, was rewritten in place under its name:
   * read and acknowledged positions in it start over at its beginning.
   */
  rewritten(segment: Segment): void;
}

/**
 * The segment files as readers see them: the segments (oldest first; the last one is the
 * active one) and the sequence numbers written so far.
 */
export interface SpoolLog {
  readonly segments: Segment[];
  /** Sequence number after the last committed (readable) record. */
  readonly committedSeq: number;
  /** Sequence number the next offered record gets. */
  readonly nextSeq: number;
  /** Bytes offered and not yet committed. */
  readonly uncommittedBytes: number;
}

/** Writes offered records to the active segment in group commits. */
export class SpoolWriter implements SpoolLog {
  readonly #o: ResolvedSpoolOptions;
  readonly #logger: Logger;
  readonly #events: SpoolWriterEvents;
  readonly segments: Segment[];
  #writer: FileHandle;
  #nextSeq: number;
  #committedSeq: number;
  #pending: PendingRun[] = [];
  #pendingBytes = 0;
  #pendingCount = 0;
  #pendingDone: Deferred | undefined;
  #writing: Deferred | undefined;
  #writingBytes = 0;
  /** Bytes of all segment files (committed). */
  #diskBytes = 0;
  #failed: Error | undefined;
  #dirty = false;
  #closed = false;
  readonly #state: DurableState;
  #source: CheckpointSource | undefined;
  /** A state entry was asked for: resolved once one captured after the request is durable. */
  #stateWanted: Deferred | undefined;
  #startQueued = false;
  /** Size of the state entry the active segment starts with (not counted against its size). */
  #activeBase: number;
  readonly #startWriting = (): void => {
    this.#startQueued = false;
    if (this.#writing === undefined) void this.#writeLoop();
  };
  /** Group commits written (one write, and one fsync under `always`, each). */
  commits = 0;
  /** State entries written. */
  checkpoints = 0;
  /** Bytes written to segment files since open (records and state entries). */
  bytesWritten = 0;

  constructor(
    options: ResolvedSpoolOptions,
    logger: Logger,
    segments: Segment[],
    writer: FileHandle,
    nextSeq: number,
    state: DurableState,
    events: SpoolWriterEvents,
  ) {
    this.#o = options;
    this.#state = state;
    this.#activeBase = (segments[segments.length - 1] as Segment).size;
    this.#logger = logger;
    this.segments = segments;
    this.#writer = writer;
    this.#nextSeq = nextSeq;
    this.#committedSeq = nextSeq;
    this.#events = events;
    for (const segment of segments) this.#diskBytes += segment.size;
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }
  get committedSeq(): number {
    return this.#committedSeq;
  }
  get uncommittedBytes(): number {
    return this.#writingBytes + this.#pendingBytes;
  }
  /** Bytes of the segment files plus the bytes waiting for or in a write. */
  get bytes(): number {
    return this.#diskBytes + this.#writingBytes + this.#pendingBytes;
  }
  /** Bytes of one state entry as last written (room kept for it under the `block` policy). */
  get stateEntryBytes(): number {
    return this.#state.entryBytes;
  }
  /** The write error, once a write failed. */
  get failed(): Error | undefined {
    return this.#failed;
  }

  /**
   * Queues the records `frame[start, end)` (`count` of them, `bytes` once encoded as entries)
   * for the next group commit.
   */
  append(frame: Uint8Array, start: number, end: number, count: number, bytes: number): void {
    this.#pending.push({ frame, start, end, count });
    this.#pendingBytes += bytes;
    this.#pendingCount += count;
    this.#nextSeq += count;
    this.#pendingDone ??= deferred();
    if (this.#source !== undefined) {
      // The pipeline asks for its checkpoint right after offering: one commit holds both.
      if (!this.#startQueued) {
        this.#startQueued = true;
        queueMicrotask(this.#startWriting);
      }
    } else if (this.#writing === undefined) void this.#writeLoop();
  }

  /** Registers the pipeline whose state entries go into the group commits. */
  setCheckpointSource(source: CheckpointSource): void {
    this.#source = source;
  }

  /** See `Spool.checkpoint`. */
  checkpoint(): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    this.#stateWanted ??= deferred();
    const wanted = this.#stateWanted;
    if (this.#writing === undefined) void this.#writeLoop();
    return wanted.promise;
  }

  /** See `Spool.flushed`. */
  flushed(): Promise<void> | undefined {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    if (this.#pendingDone !== undefined) return this.#pendingDone.promise;
    return this.#writing?.promise;
  }

  /** A segment file was deleted: its bytes no longer count. */
  released(bytes: number): void {
    this.#diskBytes -= bytes;
  }

  /** fsyncs the active segment when something was written since the last fsync. */
  async syncIfDirty(): Promise<void> {
    if (!this.#dirty || this.#closed) return;
    this.#dirty = false;
    await this.#writer.datasync().catch(() => undefined);
  }

  /** Finishes the group commit in progress, fsyncs (unless `fsync: never`), closes the file. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#startQueued) this.#startWriting();
    while (this.#writing !== undefined) await this.#writing.promise.catch(() => undefined);
    if (this.#o.fsync !== 'never') await this.#writer.datasync().catch(() => undefined);
    await this.#writer.close().catch(() => undefined);
  }

  async #writeLoop(): Promise<void> {
    while (
      (this.#pending.length > 0 || this.#stateWanted !== undefined) &&
      this.#failed === undefined
    ) {
      // The state is captured in the same synchronous step as the pending records are taken:
      // it is consistent with exactly the records before it.
      const stateDone = this.#stateWanted;
      const capture = stateDone === undefined ? undefined : this.#source?.capture();
      if (capture === undefined && this.#pending.length === 0) break;
      if (capture !== undefined) this.#stateWanted = undefined;
      // Rule states as a delta from the latest durable ones when that is small (spool-state.ts).
      const state = capture === undefined ? undefined : this.#state.payload(capture);
      const payload = state?.bytes;
      const runs = this.#pending;
      const count = this.#pendingCount;
      const bytes =
        this.#pendingBytes + (payload === undefined ? 0 : ENTRY_HEADER_BYTES + payload.length);
      const done = this.#pendingDone ?? deferred();
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
        if (payload !== undefined) writeStateEntry(buffer, pos, payload, seq);
        let active = this.segments[this.segments.length - 1] as Segment;
        const used = active.size - this.#activeBase;
        if (used > 0 && used + bytes > this.#o.segmentBytes) {
          active = await this.#rotate();
        }
        await this.#writer.write(buffer, 0, bytes, active.size);
        if (this.#o.fsync === 'always') await this.#writer.datasync();
        else this.#dirty = true;
        this.commits++;
        this.bytesWritten += bytes;
        active.size += bytes;
        active.writtenAt = Date.now();
        this.#diskBytes += bytes;
        this.#writingBytes = 0;
        this.#committedSeq += count;
        this.#writing = undefined;
        if (capture !== undefined && state !== undefined) {
          this.#state.committed(capture, state.rules);
          this.checkpoints++;
        }
        done.resolve();
        stateDone?.resolve();
        this.#events.committed(count);
      } catch (error) {
        this.#writingBytes = 0;
        this.#writing = undefined;
        this.#failed = new SpoolWriteError(
          `spool: writing to ${this.#o.dir} failed: ${(error as Error).message}; ` +
            `the pipeline stops acknowledging messages (free disk space and restart)`,
          { cause: error },
        );
        this.#logger.error({ err: error, dir: this.#o.dir }, 'spool write failed');
        this.#events.failed(this.#failed);
        done.reject(this.#failed);
        stateDone?.reject(this.#failed);
        (this.#pendingDone as Deferred | undefined)?.reject(this.#failed);
        this.#stateWanted?.reject(this.#failed);
      }
    }
  }

  /**
   * Starts a new segment with the latest durable state. A segment holding no record (state
   * entries only) is replaced under its own name instead: the new one would take that name.
   */
  async #rotate(): Promise<Segment> {
    if (this.#o.fsync !== 'never') await this.#writer.datasync();
    const first = this.#committedSeq;
    const active = this.segments[this.segments.length - 1] as Segment;
    const replace = active.first === first;
    const path = join(this.#o.dir, segmentName(first));
    const { writer, size } = await createSegmentFile(this.#o, path, first, this.#state);
    await this.#writer.close();
    this.#writer = writer;
    this.#dirty = false;
    this.#activeBase = size;
    this.#diskBytes += size;
    this.bytesWritten += size;
    const now = Date.now();
    if (!replace) {
      const segment: Segment = { first, path, size, writtenAt: now, createdAt: now, fd: undefined };
      this.segments.push(segment);
      return segment;
    }
    this.#diskBytes -= active.size;
    active.size = size;
    active.writtenAt = now;
    this.#events.rewritten(active);
    return active;
  }
}
