/**
 * @module One consumer's cursor over a `MemoryOutbox`: where it reads in the held frames, the
 * batches it took and has not acknowledged yet, and its wait for records. Batches are cut from
 * the offered frames without a copy when a batch is exactly one offered frame.
 */
import { FRAME_HEADER_BYTES, FRAME_MAGIC } from '../../runtime/index.js';
import type { OutboxBatch, OutboxReader } from './outbox.js';
import { RecordsWaiter, type ReadyState } from './records-waiter.js';
import { TakenBatches } from './taken-batches.js';

/** A run of consecutive records inside one offered frame (never modified once held). */
export interface HeldRun {
  readonly frame: Uint8Array;
  /** Byte offset of the first record. */
  readonly start: number;
  /** Byte offset after the last record. */
  readonly end: number;
  readonly count: number;
  /** Sequence number of the first record. */
  readonly firstSeq: number;
  /** When the run was accepted (for linger and age). */
  readonly since: number;
}

/** The held runs as readers see them (the outbox updates it in place). */
export interface MemoryLog {
  /** Held runs; `runs[i]` has the absolute index `base + i`. */
  runs: HeldRun[];
  base: number;
  /** Sequence number the next accepted record gets. */
  nextSeq: number;
  /** Bytes of every record ever accepted. */
  acceptedBytes: number;
  closed: boolean;
  /** A reader acknowledged records. */
  released(): void;
}

/** A batch handed to the sink, with the sequence number after its last record. */
interface Taken {
  batch: OutboxBatch;
  endSeq: number;
}

/** The size field of the frame record at `pos`. */
export function recordSize(frame: Uint8Array, pos: number): number {
  return (
    ((frame[pos] as number) |
      ((frame[pos + 1] as number) << 8) |
      ((frame[pos + 2] as number) << 16) |
      ((frame[pos + 3] as number) << 24)) >>>
    0
  );
}

/** A {@link OutboxReader} of a `MemoryOutbox`. */
export class MemoryOutboxReader implements OutboxReader {
  readonly name: string;
  readonly #log: MemoryLog;
  /** Absolute index of the run being read. */
  #index: number;
  /** Byte offset in that run's frame; -1 = the run's start. */
  #pos = -1;
  #readSeq: number;
  #ackSeq: number;
  #takenBytes: number;
  #ackedBytes: number;
  readonly #taken = new TakenBatches<Taken>();
  readonly #waiter = new RecordsWaiter();
  readonly #readyState: ReadyState;
  /** Always 0: the in-memory outbox blocks, it never drops. */
  readonly dropped = 0;

  /**
   * Starts at byte `pos` (-1: the start) of the run `index` (absolute), at the record `seq`,
   * after `bytes` bytes of records.
   */
  constructor(
    name: string,
    log: MemoryLog,
    index: number,
    pos: number,
    seq: number,
    bytes: number,
  ) {
    this.name = name;
    this.#log = log;
    this.#index = index;
    this.#pos = pos;
    this.#readSeq = seq;
    this.#ackSeq = seq;
    this.#takenBytes = bytes;
    this.#ackedBytes = bytes;
    this.#readyState = {
      closed: () => this.#log.closed,
      ready: () => this.ready,
      readyBytes: () => this.#log.acceptedBytes - this.#takenBytes,
      readySince: () => this.#log.runs[this.#index - this.#log.base]?.since ?? Date.now(),
    };
  }

  get depth(): number {
    return this.#log.nextSeq - this.#ackSeq;
  }
  get backlogBytes(): number {
    return this.#log.acceptedBytes - this.#ackedBytes;
  }
  get ready(): number {
    return this.#log.nextSeq - this.#readSeq;
  }
  /** Bytes of the ready records. */
  get readyBytes(): number {
    return this.#log.acceptedBytes - this.#takenBytes;
  }
  get closed(): boolean {
    return this.#log.closed;
  }
  get oldestAgeMs(): number {
    if (this.ready === 0) return 0;
    const run = this.#log.runs[this.#index - this.#log.base];
    return run === undefined ? 0 : Math.max(0, Date.now() - run.since);
  }
  /** Sequence number of the first record not acknowledged. */
  get ackSeq(): number {
    return this.#ackSeq;
  }

  take(maxRecords: number, maxBytes: number): OutboxBatch | undefined {
    if (this.ready === 0) return undefined;
    const runs = this.#log.runs;
    const base = this.#log.base;
    const startIndex = this.#index;
    const first = runs[startIndex - base] as HeldRun;
    const startPos = this.#pos < 0 ? first.start : this.#pos;
    // Pass 1: how far to read, record by record except for whole runs.
    let count = 0;
    let bytes = 0;
    let index = startIndex;
    let pos = startPos;
    while (index - base < runs.length && count < maxRecords) {
      const run = runs[index - base] as HeldRun;
      const runBytes = run.end - run.start;
      if (pos === run.start && count + run.count <= maxRecords && bytes + runBytes <= maxBytes) {
        count += run.count;
        bytes += runBytes;
        index++;
        pos = index - base < runs.length ? (runs[index - base] as HeldRun).start : -1;
        continue;
      }
      let full = false;
      while (pos < run.end && count < maxRecords) {
        const size = recordSize(run.frame, pos);
        if (bytes + size > maxBytes && count > 0) {
          full = true;
          break;
        }
        bytes += size;
        pos += size;
        count++;
      }
      if (pos < run.end || full) break;
      index++;
      pos = index - base < runs.length ? (runs[index - base] as HeldRun).start : -1;
    }
    // Pass 2: the batch frame (no copy when it is exactly one offered frame).
    let frame: Uint8Array;
    if (
      index === startIndex + 1 &&
      (pos < 0 || pos === (runs[index - base] as HeldRun).start) &&
      startPos === FRAME_HEADER_BYTES &&
      first.start === FRAME_HEADER_BYTES &&
      first.end === first.frame.byteLength
    ) {
      frame = first.frame;
    } else {
      frame = new Uint8Array(FRAME_HEADER_BYTES + bytes);
      const view = new DataView(frame.buffer);
      view.setUint32(0, FRAME_MAGIC, true);
      view.setUint32(4, count, true);
      view.setUint32(8, frame.byteLength, true);
      let out = FRAME_HEADER_BYTES;
      let from = startPos;
      for (let i = startIndex; i <= index && i - base < runs.length; i++) {
        const run = runs[i - base] as HeldRun;
        const to = i === index ? pos : run.end;
        if (i === index && pos < 0) break;
        frame.set(run.frame.subarray(from, to), out);
        out += to - from;
        const next = runs[i + 1 - base];
        if (next !== undefined) from = next.start;
      }
    }
    this.#index = index;
    this.#pos = pos;
    this.#readSeq += count;
    this.#takenBytes += bytes;
    const batch: OutboxBatch = { frame, count, bytes };
    this.#taken.push({ batch, endSeq: this.#readSeq });
    return batch;
  }

  ack(batch: OutboxBatch): void {
    const released = this.#taken.ack(batch);
    for (const taken of released) {
      this.#ackSeq = taken.endSeq;
      this.#ackedBytes += taken.batch.bytes;
    }
    if (released.length > 0) this.#log.released();
  }

  waitForRecords(minRecords: number, minBytes: number, lingerMs: number): Promise<void> {
    const waiting = this.#waiter.wait(minRecords, minBytes, lingerMs);
    this.#waiter.check(this.#readyState);
    return waiting;
  }

  /** Records were accepted, or the outbox closed: re-evaluates the pending wait. */
  check(): void {
    this.#waiter.check(this.#readyState);
  }

  /** Ends the pending wait (close). */
  wake(): void {
    this.#waiter.resolve();
  }
}
