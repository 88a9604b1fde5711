/**
 * @module `MemoryOutbox`: the bounded in-memory `Outbox` of one pipeline. It holds the frames the
 * pipeline offered (no per-record objects), hands batches to the forwarder and frees room when
 * upstream acknowledges them. When it fills, the pipeline stops committing batches, ingest stops
 * reading the socket and the broker keeps the unacknowledged messages: the backpressure chain.
 */
import { FRAME_HEADER_BYTES, frameRecordCount } from '../../runtime/index.js';
import { OutboxOptionsError } from './errors.js';
import { MemoryOutboxReader, recordSize } from './memory-outbox-reader.js';
import type { HeldRun, MemoryLog } from './memory-outbox-reader.js';
import type { Outbox, OutboxReader } from './outbox.js';

/** Options of a {@link MemoryOutbox}. */
export interface MemoryOutboxOptions {
  /** Most records held at once (pipeline `outboxMaxRecords`). @default 10000 */
  capacity?: number;
  /**
   * Once full, the outbox accepts records again only after its depth has fallen to this level
   * (hysteresis: room frees in large steps, not one record at a time). @default capacity / 2
   */
  lowWater?: number;
  /** Called once when the outbox becomes full (the high-water crossing). @default undefined */
  onHighWater?: (depth: number) => void;
  /** Called once when a full outbox falls back to `lowWater` (the low-water crossing). @default undefined */
  onLowWater?: (depth: number) => void;
}

interface ResolvedMemoryOutboxOptions {
  capacity: number;
  lowWater: number;
  onHighWater: ((depth: number) => void) | undefined;
  onLowWater: ((depth: number) => void) | undefined;
}

/** Default {@link MemoryOutboxOptions.capacity}. */
export const DEFAULT_OUTBOX_CAPACITY = 10_000;

/** Fills the defaults of {@link MemoryOutboxOptions} and validates them. */
export function resolveMemoryOutboxOptions(
  options: MemoryOutboxOptions = {},
): ResolvedMemoryOutboxOptions {
  const capacity = options.capacity ?? DEFAULT_OUTBOX_CAPACITY;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new OutboxOptionsError(`outboxMaxRecords: ${String(capacity)} is not a positive integer`);
  }
  const lowWater = options.lowWater ?? Math.floor(capacity / 2);
  if (!Number.isInteger(lowWater) || lowWater < 0 || lowWater >= capacity) {
    throw new OutboxOptionsError(
      `lowWater: ${String(lowWater)} must be an integer from 0 to capacity - 1 (${capacity - 1})`,
    );
  }
  return { capacity, lowWater, onHighWater: options.onHighWater, onLowWater: options.onLowWater };
}

/** The in-memory {@link Outbox}. */
export class MemoryOutbox implements Outbox {
  readonly #capacity: number;
  readonly #lowWater: number;
  readonly #onHighWater: ((depth: number) => void) | undefined;
  readonly #onLowWater: ((depth: number) => void) | undefined;
  /** What the readers see; the outbox updates it in place. */
  readonly #log: MemoryLog = {
    runs: [],
    base: 0,
    nextSeq: 0,
    acceptedBytes: 0,
    closed: false,
    released: () => this.#release(),
  };
  /** Sequence number of the oldest held record. */
  #heldSeq = 0;
  #heldBytes = 0;
  readonly #readers: MemoryOutboxReader[] = [];
  #peak = 0;
  #full = false;
  #roomWaiters: (() => void)[] = [];

  constructor(options?: MemoryOutboxOptions) {
    const resolved = resolveMemoryOutboxOptions(options);
    this.#capacity = resolved.capacity;
    this.#lowWater = resolved.lowWater;
    this.#onHighWater = resolved.onHighWater;
    this.#onLowWater = resolved.onLowWater;
  }

  get capacity(): number {
    return this.#capacity;
  }
  /** Records held: accepted and not yet acknowledged by every reader. */
  get depth(): number {
    return this.#log.nextSeq - this.#heldSeq;
  }
  get peakDepth(): number {
    return this.#peak;
  }
  get closed(): boolean {
    return this.#log.closed;
  }
  get readers(): readonly OutboxReader[] {
    return this.#readers;
  }

  reader(name: string): OutboxReader {
    for (const reader of this.#readers) if (reader.name === name) return reader;
    // The oldest record held: inside the oldest run when other readers acknowledged part of it.
    const oldest = this.#log.runs[0];
    let pos = -1;
    let skipped = 0;
    if (oldest !== undefined && this.#heldSeq > oldest.firstSeq) {
      pos = oldest.start;
      for (let i = oldest.firstSeq; i < this.#heldSeq; i++) pos += recordSize(oldest.frame, pos);
      skipped = pos - oldest.start;
    }
    const reader = new MemoryOutboxReader(
      name,
      this.#log,
      this.#log.base,
      pos,
      this.#heldSeq,
      this.#log.acceptedBytes - this.#heldBytes + skipped,
    );
    this.#readers.push(reader);
    return reader;
  }

  offer(frame: Uint8Array, skip = 0): number {
    if (this.#log.closed || this.#full) return 0;
    const total = frameRecordCount(frame);
    const available = total - skip;
    if (available <= 0) return 0;
    const room = this.#capacity - this.depth;
    const accepted = available < room ? available : room;
    let pos = FRAME_HEADER_BYTES;
    for (let i = 0; i < skip; i++) pos += recordSize(frame, pos);
    const start = pos;
    if (skip + accepted === total) {
      pos = frame.byteLength;
    } else {
      for (let i = 0; i < accepted; i++) pos += recordSize(frame, pos);
    }
    this.#log.runs.push({
      frame,
      start,
      end: pos,
      count: accepted,
      firstSeq: this.#log.nextSeq,
      since: Date.now(),
    });
    this.#log.nextSeq += accepted;
    this.#log.acceptedBytes += pos - start;
    this.#heldBytes += pos - start;
    const depth = this.depth;
    if (depth > this.#peak) this.#peak = depth;
    if (depth >= this.#capacity) {
      this.#full = true;
      this.#onHighWater?.(depth);
    }
    for (const reader of this.#readers) reader.check();
    return accepted;
  }

  waitForRoom(): Promise<void> {
    if (!this.#full || this.#log.closed) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  close(): void {
    if (this.#log.closed) return;
    this.#log.closed = true;
    this.#wakeRoomWaiters();
    for (const reader of this.#readers) reader.wake();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** A reader acknowledged records: frees the runs every reader acknowledged. */
  #release(): void {
    let acked = this.#log.nextSeq;
    for (const reader of this.#readers) if (reader.ackSeq < acked) acked = reader.ackSeq;
    const runs = this.#log.runs;
    let freed = 0;
    while (freed < runs.length) {
      const run = runs[freed] as HeldRun;
      if (run.firstSeq + run.count > acked) break;
      this.#heldBytes -= run.end - run.start;
      freed++;
    }
    if (freed > 0) {
      runs.splice(0, freed);
      this.#log.base += freed;
    }
    // Records of a partly acknowledged run count as gone (the run's frame stays referenced).
    this.#heldSeq = acked;
    if (this.#full && this.depth <= this.#lowWater) {
      this.#full = false;
      this.#onLowWater?.(this.depth);
      this.#wakeRoomWaiters();
    }
  }

  #wakeRoomWaiters(): void {
    const waiters = this.#roomWaiters;
    if (waiters.length === 0) return;
    this.#roomWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
