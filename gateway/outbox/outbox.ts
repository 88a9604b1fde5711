/**
 * @module The `Outbox` seam: the bounded store of output records between a pipeline and its
 * sinks. Records travel in the Sluice frame layout (runtime/FRAME.md) so that neither side
 * converts them per record. One producer (the pipeline) offers frames; each consumer (one
 * forwarder per sink) reads through its own {@link OutboxReader} with its own cursor, and a
 * record leaves the outbox only once every reader acknowledged it. Implementations:
 * `MemoryOutbox` and the durable disk `Spool`.
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

/** The reader name used when an outbox has a single, unnamed consumer. */
export const DEFAULT_READER = 'default';

/**
 * One consumer's cursor over an outbox: it takes batches in order, sends them, and
 * acknowledges them. Readers of one outbox are independent: a slow one does not hold the
 * others back until the outbox's bound is reached.
 */
export interface OutboxReader {
  /** The consumer's name (a sink's name), unique within the outbox. */
  readonly name: string;
  /** Records accepted by the outbox and not yet acknowledged by this reader (in flight included). */
  readonly depth: number;
  /** Bytes of those records. */
  readonly backlogBytes: number;
  /** Records accepted and not yet taken by this reader. */
  readonly ready: number;
  /** Whether the outbox was closed (records held stay takeable). */
  readonly closed: boolean;
  /** Age in ms of the oldest record this reader has not taken (an upper bound); 0 when none. */
  readonly oldestAgeMs: number;
  /** Records dropped for this reader before it sent them (a `drop-oldest` or age policy). */
  readonly dropped: number;
  /**
   * Takes the oldest records not yet taken, up to `maxRecords` and `maxBytes` (at least one
   * record when any is ready), or undefined when none is ready.
   */
  take(maxRecords: number, maxBytes: number): OutboxBatch | undefined;
  /**
   * Acknowledges a taken batch. Records are released in order: a batch acknowledged before an
   * older one of the same reader is held until the older one is acknowledged too.
   */
  ack(batch: OutboxBatch): void;
  /**
   * Resolves when at least `minRecords` records or `minBytes` bytes are ready, when the oldest
   * ready record has waited `lingerMs`, or on close. One waiter at a time.
   */
  waitForRecords(minRecords: number, minBytes: number, lingerMs: number): Promise<void>;
}

/**
 * A bounded store of output records. `depth` counts every record accepted and not yet
 * acknowledged by every reader (the slowest reader's depth) and never exceeds `capacity`.
 */
export interface Outbox {
  /** Most records held at once. */
  readonly capacity: number;
  /** Records accepted and not yet acknowledged by every reader. */
  readonly depth: number;
  /** The highest `depth` reached. */
  readonly peakDepth: number;
  /** Whether `close` was called. */
  readonly closed: boolean;
  /** The readers, in the order they were created. */
  readonly readers: readonly OutboxReader[];
  /**
   * The reader named `name`, created on first use: a new reader starts at the oldest record the
   * outbox still holds.
   */
  reader(name: string): OutboxReader;
  /**
   * Accepts records of `frame`, starting after the first `skip` records, as far as there is
   * room. The outbox keeps a reference to `frame`: the caller must not modify it afterwards.
   * @returns how many records were accepted (0 when full or closed).
   */
  offer(frame: Uint8Array, skip?: number): number;
  /** Resolves when records can be offered again (immediately when there is room), or on close. */
  waitForRoom(): Promise<void>;
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
