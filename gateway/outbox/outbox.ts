/**
 * @module The `Outbox` seam: the bounded store of output records between a pipeline and its sink.
 * Records travel in the Sluice frame layout (runtime/FRAME.md) so that neither side converts
 * them per record. The in-memory implementation is `MemoryOutbox`; a durable disk spool will
 * implement the same interface.
 */

/** Records taken from an outbox for one upstream send. */
export interface OutboxBatch {
  /** A complete frame (header included) holding exactly the batch's records. */
  readonly frame: Uint8Array;
  /** Records in `frame`. */
  readonly count: number;
  /** Bytes of the records (headers included, frame header excluded). */
  readonly bytes: number;
}

/**
 * A bounded queue of output records. One producer (a pipeline) offers frames; one consumer
 * (the pipeline's forwarder) takes batches, sends them, and acknowledges them.
 * `depth` counts every record accepted and not yet acknowledged, in flight included, and never
 * exceeds `capacity`.
 */
export interface Outbox {
  /** Most records held at once. */
  readonly capacity: number;
  /** Records accepted and not yet acknowledged. */
  readonly depth: number;
  /** The highest `depth` reached. */
  readonly peakDepth: number;
  /** Records accepted and not yet taken. */
  readonly ready: number;
  /** Whether `close` was called. */
  readonly closed: boolean;
  /**
   * Accepts records of `frame`, starting after the first `skip` records, as far as there is
   * room. The outbox keeps a reference to `frame`: the caller must not modify it afterwards.
   * @returns how many records were accepted (0 when full or closed).
   */
  offer(frame: Uint8Array, skip?: number): number;
  /** Resolves when records can be offered again (immediately when there is room), or on close. */
  waitForRoom(): Promise<void>;
  /**
   * Takes the oldest records not yet taken, up to `maxRecords` and `maxBytes` (at least one
   * record when any is ready), or undefined when none is ready.
   */
  take(maxRecords: number, maxBytes: number): OutboxBatch | undefined;
  /** Acknowledges the oldest taken batch: its records leave the outbox and free room. */
  ack(batch: OutboxBatch): void;
  /**
   * Resolves when at least `minRecords` records or `minBytes` bytes are ready, when the oldest
   * ready record has waited `lingerMs`, or on close. One waiter at a time.
   */
  waitForRecords(minRecords: number, minBytes: number, lingerMs: number): Promise<void>;
  /** Refuses further offers and wakes every waiter. Records held stay takeable. */
  close(): void;
  /**
   * A durable outbox (the disk spool) writes accepted records asynchronously: this resolves
   * once every record accepted so far is durable, and the pipeline commits (acknowledges the
   * batch's MQTT messages) only then. Undefined, or returning undefined, when accepted records
   * are already as durable as they will get (the in-memory outbox). Rejects when the write failed.
   */
  flushed?(): Promise<void> | undefined;
  /** Whether records held survive a restart (the forwarder's shutdown log says so). @default false */
  readonly durable?: boolean;
}
