/**
 * @module `MemoryOutbox`: the bounded in-memory `Outbox` of one pipeline. It holds the frames the
 * pipeline offered (no per-record objects), hands batches to the forwarder and frees room when
 * upstream acknowledges them. When it fills, the pipeline stops committing batches, ingest stops
 * reading the socket and the broker keeps the unacknowledged messages: the backpressure chain.
 */
import { FRAME_HEADER_BYTES, FRAME_MAGIC } from '../../runtime/index.js';
import { OutboxOptionsError } from './errors.js';
import { RecordsWaiter, type ReadyState } from './records-waiter.js';
import type { Outbox, OutboxBatch } from './outbox.js';

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

/** A run of consecutive records inside one offered frame. */
interface Segment {
  frame: Uint8Array;
  /** Byte offset of the first record. */
  start: number;
  /** Byte offset after the last record. */
  end: number;
  count: number;
  /** When the segment was accepted (for linger). */
  since: number;
}

function recordSize(frame: Uint8Array, pos: number): number {
  return (
    ((frame[pos] as number) |
      ((frame[pos + 1] as number) << 8) |
      ((frame[pos + 2] as number) << 16) |
      ((frame[pos + 3] as number) << 24)) >>>
    0
  );
}

/** The in-memory {@link Outbox}. */
export class MemoryOutbox implements Outbox {
  readonly #capacity: number;
  readonly #lowWater: number;
  readonly #onHighWater: ((depth: number) => void) | undefined;
  readonly #onLowWater: ((depth: number) => void) | undefined;
  readonly #segments: Segment[] = [];
  #head = 0;
  readonly #taken: OutboxBatch[] = [];
  #depth = 0;
  #peak = 0;
  #ready = 0;
  #readyBytes = 0;
  #full = false;
  #closed = false;
  #roomWaiters: (() => void)[] = [];
  readonly #recordsWaiter = new RecordsWaiter();
  readonly #readyState: ReadyState = {
    closed: () => this.#closed,
    ready: () => this.#ready,
    readyBytes: () => this.#readyBytes,
    readySince: () => (this.#segments[this.#head] as Segment).since,
  };

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
  get depth(): number {
    return this.#depth;
  }
  get peakDepth(): number {
    return this.#peak;
  }
  get ready(): number {
    return this.#ready;
  }
  /** Bytes of the ready records. */
  get readyBytes(): number {
    return this.#readyBytes;
  }
  get closed(): boolean {
    return this.#closed;
  }

  offer(frame: Uint8Array, skip = 0): number {
    if (this.#closed || this.#full) return 0;
    const total = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(4, true);
    const available = total - skip;
    if (available <= 0) return 0;
    const room = this.#capacity - this.#depth;
    const accepted = available < room ? available : room;
    let pos = FRAME_HEADER_BYTES;
    for (let i = 0; i < skip; i++) pos += recordSize(frame, pos);
    const start = pos;
    if (skip + accepted === total) {
      pos = frame.byteLength;
    } else {
      for (let i = 0; i < accepted; i++) pos += recordSize(frame, pos);
    }
    this.#segments.push({ frame, start, end: pos, count: accepted, since: Date.now() });
    this.#depth += accepted;
    if (this.#depth > this.#peak) this.#peak = this.#depth;
    this.#ready += accepted;
    this.#readyBytes += pos - start;
    if (this.#depth >= this.#capacity) {
      this.#full = true;
      this.#onHighWater?.(this.#depth);
    }
    this.#recordsWaiter.check(this.#readyState);
    return accepted;
  }

  waitForRoom(): Promise<void> {
    if (!this.#full || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  take(maxRecords: number, maxBytes: number): OutboxBatch | undefined {
    if (this.#ready === 0) return undefined;
    const segments = this.#segments;
    // Pass 1: how much to take, splitting the last segment when needed.
    let count = 0;
    let bytes = 0;
    let index = this.#head;
    let whole = 0;
    let splitEnd = -1;
    let splitCount = 0;
    while (index < segments.length && count < maxRecords) {
      const segment = segments[index] as Segment;
      const segmentBytes = segment.end - segment.start;
      if (count + segment.count <= maxRecords && bytes + segmentBytes <= maxBytes) {
        count += segment.count;
        bytes += segmentBytes;
        whole++;
        index++;
        continue;
      }
      // Part of this segment: records while both limits hold (always at least one overall).
      let pos = segment.start;
      let n = 0;
      while (n < segment.count && count + n < maxRecords) {
        const size = recordSize(segment.frame, pos);
        if (bytes + size > maxBytes && count + n > 0) break;
        bytes += size;
        pos += size;
        n++;
      }
      count += n;
      if (n === segment.count) {
        whole++;
      } else if (n > 0) {
        splitEnd = pos;
        splitCount = n;
      }
      break;
    }
    // Pass 2: build the batch frame (no copy when it is exactly one offered frame).
    let frame: Uint8Array;
    const first = segments[this.#head] as Segment;
    if (
      whole === 1 &&
      splitCount === 0 &&
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
      let pos = FRAME_HEADER_BYTES;
      for (let i = 0; i < whole; i++) {
        const segment = segments[this.#head + i] as Segment;
        frame.set(segment.frame.subarray(segment.start, segment.end), pos);
        pos += segment.end - segment.start;
      }
      if (splitCount > 0) {
        const segment = segments[this.#head + whole] as Segment;
        frame.set(segment.frame.subarray(segment.start, splitEnd), pos);
      }
    }
    // Pass 3: consume.
    for (let i = 0; i < whole; i++) segments[this.#head + i] = undefined as unknown as Segment;
    this.#head += whole;
    if (splitCount > 0) {
      const segment = segments[this.#head] as Segment;
      segment.start = splitEnd;
      segment.count -= splitCount;
    }
    if (this.#head === segments.length) {
      segments.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > segments.length) {
      segments.splice(0, this.#head);
      this.#head = 0;
    }
    this.#ready -= count;
    this.#readyBytes -= bytes;
    const batch: OutboxBatch = { frame, count, bytes };
    this.#taken.push(batch);
    return batch;
  }

  ack(batch: OutboxBatch): void {
    const index = this.#taken.indexOf(batch);
    if (index < 0) return;
    this.#taken.splice(index, 1);
    this.#depth -= batch.count;
    if (this.#full && this.#depth <= this.#lowWater) {
      this.#full = false;
      this.#onLowWater?.(this.#depth);
      this.#wakeRoomWaiters();
    }
  }

  waitForRecords(minRecords: number, minBytes: number, lingerMs: number): Promise<void> {
    const waiting = this.#recordsWaiter.wait(minRecords, minBytes, lingerMs);
    this.#recordsWaiter.check(this.#readyState);
    return waiting;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeRoomWaiters();
    this.#recordsWaiter.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #wakeRoomWaiters(): void {
    const waiters = this.#roomWaiters;
    if (waiters.length === 0) return;
    this.#roomWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
