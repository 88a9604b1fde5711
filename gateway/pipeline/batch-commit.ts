/**
 * @module Committing a pipeline's processed batches: the collected outputs are offered to the
 * outbox, and the batch's held MQTT acks are released only once every record is accepted, its
 * dead letters are written, and what durability the pipeline promises holds — the records on
 * disk (a durable outbox), or a rule-state checkpoint covering the batch (docs/delivery.md).
 *
 * At most one batch waits: while it does, the pipeline processes nothing more, and ingest stops
 * reading once the batch being filled is full too.
 */
import type { Logger } from 'pino';
import { frameRecordCount } from '../../runtime/index.js';
import type { DeadLetterFile } from '../dead-letter/dead-letter-file.js';
import type { AckGate, AckTicket } from '../ingest/ack-gate.js';
import type { Outbox } from '../outbox/outbox.js';
import type { Counters } from './counters.js';
import type { PipelineCheckpoints } from './pipeline-checkpoints.js';

/** A batch whose outputs wait for outbox room before it can be committed. */
interface WaitingBatch {
  readonly ticket: AckTicket;
  readonly frame: Uint8Array | undefined;
  readonly total: number;
  skip: number;
  readonly deadLetters: Promise<void> | undefined;
  /** The outbox's write of the accepted records (durable outboxes only). */
  readonly durable: Promise<void> | undefined;
  /** The commit waits for a durable checkpoint covering the batch. */
  readonly needsState: boolean;
  /** Every output offered and every dead letter written: a checkpoint may cover the batch. */
  settled: boolean;
}

/** Options of {@link BatchCommits}. */
export interface BatchCommitsOptions {
  pipeline: string;
  outbox: Outbox;
  gate: AckGate;
  deadLetters: DeadLetterFile;
  counters: Counters;
  checkpoints: PipelineCheckpoints | undefined;
  logger: Logger;
  /** A waiting batch is done (committed, or left unacknowledged): the pipeline goes on. */
  onDone: () => void;
}

/** The commits of one pipeline's batches. */
export class BatchCommits {
  readonly #o: BatchCommitsOptions;
  #waiting: WaitingBatch | undefined;

  constructor(options: BatchCommitsOptions) {
    this.#o = options;
  }

  /** Whether a processed batch waits (for outbox room, dead-letter writes or durability). */
  get waiting(): boolean {
    return this.#waiting !== undefined;
  }

  /** Whether every processed batch's outputs are offered and its dead letters written. */
  get offered(): boolean {
    return this.#waiting === undefined || this.#waiting.settled;
  }

  /**
   * Offers a processed batch's outputs (`frame`, undefined when it produced none) and commits
   * `ticket` now, or waits for room, dead-letter writes and durability first.
   */
  settle(ticket: AckTicket, frame: Uint8Array | undefined): void {
    const o = this.#o;
    const deadLetters = o.deadLetters.commit();
    const total = frame === undefined ? 0 : frameRecordCount(frame);
    let accepted = 0;
    if (frame !== undefined) {
      accepted = o.outbox.offer(frame, 0);
      o.counters.outputRecords += accepted;
    }
    // A batch with QoS 1/2 messages waits for a checkpoint covering it when it produced records
    // or a rule holds state: its acks go out only then. A QoS 0 batch acknowledges nothing and is
    // never redelivered, so it waits for its records alone (at most once: a crash may lose the
    // window state it fed since the last checkpoint).
    const needsState =
      o.checkpoints !== undefined && ticket.count > 0 && o.checkpoints.needsState(total);
    const durable = accepted > 0 && !needsState ? o.outbox.flushed?.() : undefined;
    if (accepted === total && deadLetters === undefined && durable === undefined && !needsState) {
      o.gate.commit(ticket);
      return;
    }
    this.#waiting = {
      ticket,
      frame,
      total,
      skip: accepted,
      deadLetters,
      durable,
      needsState,
      settled: false,
    };
    void this.#drain();
  }

  async #drain(): Promise<void> {
    const o = this.#o;
    const waiting = this.#waiting as WaitingBatch;
    const outbox = o.outbox;
    if (waiting.deadLetters !== undefined) await waiting.deadLetters;
    while (waiting.skip < waiting.total && !outbox.closed) {
      await outbox.waitForRoom();
      const accepted = outbox.offer(waiting.frame as Uint8Array, waiting.skip);
      waiting.skip += accepted;
      o.counters.outputRecords += accepted;
    }
    // A durable outbox: acknowledge only once the accepted records are on disk.
    let durable = true;
    let flushed: Promise<void> | undefined;
    waiting.settled = waiting.skip >= waiting.total;
    if (waiting.needsState) {
      // Every output is offered now, so the spool can capture a consistent state.
      if (waiting.settled) flushed = o.checkpoints?.take();
    } else if (waiting.skip > 0) {
      flushed = outbox.flushed?.() ?? waiting.durable;
    }
    if (flushed !== undefined) {
      await flushed.catch((error: unknown) => {
        durable = false;
        o.logger.error(
          { err: error, pipeline: o.pipeline },
          'outbox write failed: the batch stays unacknowledged (the broker redelivers it)',
        );
      });
    }
    if (!durable) {
      // Nothing to commit; the messages are redelivered after a reconnect or restart.
    } else if (waiting.skip < waiting.total) {
      o.logger.warn(
        { pipeline: o.pipeline, records: waiting.total - waiting.skip },
        'outbox closed with a batch not accepted: its messages stay unacknowledged',
      );
    } else {
      o.gate.commit(waiting.ticket);
    }
    this.#waiting = undefined;
    o.onDone();
  }
}
