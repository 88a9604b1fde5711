/**
 * @module The spool's read side: one consumer's cursor over the segment files. It reads records
 * back from the files (so the backlog is bounded by disk, not memory) into batches, tracks the
 * acknowledged position (persisted by the spool in `cursor.json`), and skips corrupted regions:
 * an invalid entry or segment met while reading is skipped, counted (`corruptRecords`, by
 * sequence gap) and logged, and the records after it are delivered.
 */
import type { Logger } from 'pino';
import { FRAME_HEADER_BYTES, FRAME_MAGIC } from '../../runtime/index.js';
import type { OutboxBatch, OutboxReader } from '../outbox/outbox.js';
import { RecordsWaiter, type ReadyState } from '../outbox/records-waiter.js';
import { TakenBatches } from '../outbox/taken-batches.js';
import type { SpoolCursor } from './spool-cursor.js';
import {
  ENTRY_HEADER_BYTES,
  checkEntry,
  entryRecordLength,
  entrySeq,
  isStateEntry,
  findNextEntry,
} from './spool-format.js';
import { SegmentChunks } from './segment-chunks.js';
import { MAX_RECORD_BYTES } from './spool-recovery.js';
import type { ReaderStart, Segment } from './spool-recovery.js';
import type { SpoolLog } from './spool-writer.js';

/** A batch handed to the consumer, with the position after its last record. */
interface TakenBatch {
  batch: OutboxBatch;
  endSeq: number;
  endSegment: number;
  endOffset: number;
}

/** One consumer's read and acknowledged positions over a spool's segments. */
export class SpoolReader implements OutboxReader {
  /** The consumer's name (a sink's). */
  readonly name: string;
  readonly #log: SpoolLog;
  readonly #logger: Logger;
  readonly #isClosed: () => boolean;
  readonly #onAck: (moved: boolean) => void;
  /** Sequence number of the next record to read. */
  #readSeq: number;
  #readIndex: number;
  #readOffset: number;
  #ackSeq: number;
  #ackSegment: number;
  #ackOffset: number;
  readonly #taken = new TakenBatches<TakenBatch>();
  #inflight = 0;
  #readySince = 0;
  readonly #recordsWaiter = new RecordsWaiter();
  readonly #readyState: ReadyState = {
    closed: () => this.#isClosed(),
    ready: () => this.ready,
    readyBytes: () => this.readyBytes,
    readySince: () => this.#readySince,
  };
  readonly #chunks = new SegmentChunks();
  #stage = Buffer.alloc(1 << 16);
  /** Records dropped for this reader (budget policy `drop-oldest`) before it read them. */
  dropped = 0;
  /** Records dropped for this reader because they outlived `maxAgeMs` before it read them. */
  expired = 0;
  /** Records lost to corruption (counted by sequence gaps). */
  corruptRecords = 0;
  /** Corrupted regions skipped (entries or segment tails). */
  corruptRegions = 0;

  constructor(
    name: string,
    log: SpoolLog,
    start: ReaderStart,
    logger: Logger,
    isClosed: () => boolean,
    onAck: (moved: boolean) => void,
  ) {
    this.#onAck = onAck;
    this.name = name;
    this.#log = log;
    this.#logger = logger;
    this.#isClosed = isClosed;
    this.#readSeq = start.seq;
    this.#readIndex = start.index;
    this.#readOffset = start.offset;
    this.#ackSeq = start.seq;
    this.#ackSegment = (log.segments[start.index] as Segment).first;
    this.#ackOffset = start.offset;
  }

  /** Records accepted and not yet acknowledged by this reader (in flight included). */
  get depth(): number {
    return this.#log.nextSeq - this.#readSeq + this.#inflight;
  }
  /** Records committed and not yet taken. */
  get ready(): number {
    return this.#log.committedSeq - this.#readSeq;
  }
  /**
   * Bytes of the entries not yet taken (committed): the records' and the state entries' between
   * them, 0 when no record is ready (state entries alone never wake a forwarder).
   */
  get readyBytes(): number {
    if (this.ready === 0) return 0;
    const segments = this.#log.segments;
    let bytes = -this.#readOffset;
    for (let i = this.#readIndex; i < segments.length; i++) {
      bytes += (segments[i] as Segment).size;
    }
    return bytes;
  }
  /** The acknowledged position: everything before it was accepted upstream. */
  get position(): SpoolCursor {
    return { seq: this.#ackSeq, segment: this.#ackSegment, offset: this.#ackOffset };
  }
  /** Sequence number of the first record not acknowledged. */
  get ackSeq(): number {
    return this.#ackSeq;
  }
  /** Index (in the log's segments) of the segment being read. */
  get readIndex(): number {
    return this.#readIndex;
  }
  /** Bytes of the held segments before the acknowledged position. */
  get ackedBytes(): number {
    let bytes = this.#ackOffset;
    for (const segment of this.#log.segments) {
      if (segment.first >= this.#ackSegment) break;
      bytes += segment.size;
    }
    return bytes;
  }
  /**
   * Bytes not acknowledged yet by this reader, committed or not (state entries between its
   * records included); 0 when it has no record left to send.
   */
  get backlogBytes(): number {
    if (this.depth === 0) return 0;
    let total = 0;
    for (const segment of this.#log.segments) total += segment.size;
    return Math.max(0, total - this.ackedBytes + this.#log.uncommittedBytes);
  }
  /** Whether the spool was closed. */
  get closed(): boolean {
    return this.#isClosed();
  }
  /**
   * Age of the oldest record not yet accepted upstream (in flight included), in ms (an upper
   * bound: the age of the segment it is in); 0 when none waits.
   */
  get oldestAgeMs(): number {
    if (this.depth === 0) return 0;
    // The oldest record not acknowledged (in flight included) is in the acknowledged position's segment.
    const segments = this.#log.segments;
    let segment = segments[0];
    for (const s of segments) {
      if (s.first > this.#ackSegment) break;
      segment = s;
    }
    return segment === undefined ? 0 : Math.max(0, Date.now() - segment.createdAt);
  }

  /** Marks records ready since now when none were (call when the spool opens with a backlog). */
  resumeBacklog(): void {
    if (this.ready > 0) this.#readySince = 0;
  }

  /** See `Outbox.take`. */
  take(maxRecords: number, maxBytes: number): OutboxBatch | undefined {
    let count = 0;
    let bytes = 0;
    const segments = this.#log.segments;
    const committedSeq = this.#log.committedSeq;
    while (count < maxRecords && this.#readSeq < committedSeq) {
      const segment = segments[this.#readIndex] as Segment;
      if (this.#readOffset >= segment.size) {
        if (this.#readIndex === segments.length - 1) break;
        this.#chunks.close(segment);
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
      if (seq < this.#readSeq || isStateEntry(chunks.bytes, entryAt)) {
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

  /**
   * Acknowledges a taken batch. The acknowledged position moves past the oldest taken batches
   * that are all acknowledged (a batch acknowledged before an older one waits for it); the
   * spool then deletes what every reader acknowledged and saves the cursors.
   */
  ack(batch: OutboxBatch): void {
    let moved = false;
    for (const taken of this.#taken.ack(batch)) {
      this.#inflight -= taken.batch.count;
      if (taken.endSeq > this.#ackSeq) {
        this.#ackSeq = taken.endSeq;
        this.#ackSegment = taken.endSegment;
        this.#ackOffset = taken.endOffset;
        moved = true;
      }
    }
    this.#onAck(moved);
  }

  /** See `Outbox.waitForRecords`. */
  waitForRecords(minRecords: number, minBytes: number, lingerMs: number): Promise<void> {
    const waiting = this.#recordsWaiter.wait(minRecords, minBytes, lingerMs);
    this.#recordsWaiter.check(this.#readyState);
    return waiting;
  }

  /** `count` records were just committed. */
  committed(count: number): void {
    if (this.ready === count) this.#readySince = Date.now();
    this.#recordsWaiter.check(this.#readyState);
  }

  /** The spool closed: wakes the pending wait. */
  wake(): void {
    this.#recordsWaiter.resolve();
  }

  /**
   * The oldest segment (ending before sequence number `end`) is about to be dropped: moves both
   * positions past it.
   * @returns how many of its records this reader had not taken yet.
   */
  skipOldest(end: number): number {
    const oldest = this.#log.segments[0] as Segment;
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
    return unsent;
  }

  /** The oldest segment was removed from the log. */
  oldestRemoved(segment: Segment): void {
    this.#chunks.close(segment);
    if (this.#readIndex > 0) this.#readIndex--;
  }

  /**
   * `segment` (the active one, holding state entries only) was rewritten in place: positions in
   * it start over at its beginning, where there is no record either.
   */
  segmentRewritten(segment: Segment): void {
    this.#chunks.close(segment);
    if (this.#log.segments[this.#readIndex] === segment) this.#readOffset = 0;
    if (this.#ackSegment === segment.first) this.#ackOffset = 0;
  }

  /** Closes the read descriptors this reader opened. */
  closeFiles(): void {
    for (const segment of this.#log.segments) this.#chunks.close(segment);
  }

  /** The entry at the read position is invalid: skips to the next valid one in the segment. */
  #resync(segment: Segment): void {
    const from = this.#readOffset;
    const { bytes: rest, length: read } = this.#chunks.readRest(segment, from);
    const next = findNextEntry(rest, 1, read, MAX_RECORD_BYTES);
    const skippedTo = next < 0 ? segment.size : from + next;
    this.corruptRegions++;
    this.#logger.error(
      { segment: segment.path, offset: from, bytes: skippedTo - from, reader: this.name },
      'spool: corrupted data skipped (checksum or framing error); later records are still delivered',
    );
    this.#readOffset = skippedTo;
    if (next >= 0) this.#skipTo(entrySeq(rest, next), segment, from);
  }

  /** Records before `seq` not read yet are gone (corruption): counts and skips them. */
  #skipTo(seq: number, segment: Segment, offset: number): void {
    if (seq <= this.#readSeq) return;
    const committedSeq = this.#log.committedSeq;
    const lost = Math.min(seq, committedSeq) - this.#readSeq;
    this.corruptRecords += lost;
    this.#logger.error(
      { segment: segment.path, offset, records: lost, reader: this.name },
      'spool: records lost to corruption',
    );
    this.#readSeq = Math.min(seq, committedSeq);
  }
}
