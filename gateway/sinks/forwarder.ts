/**
 * @module The forwarder of one pipeline: takes batches from the outbox as the sink wants them
 * cut, sends them one at a time, and acknowledges them in the outbox once upstream accepted
 * them. While a batch is being retried nothing more is taken, so the outbox fills and the
 * pipeline stops committing: that is how a slow upstream slows ingest down. A batch upstream
 * refuses for good goes to the dead-letter file.
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { FrameReader } from '../../runtime/index.js';
import type { DeadLetterFile } from '../dead-letter/dead-letter-file.js';
import { formatId } from '../dead-letter/dead-letter-file.js';
import type { Outbox, OutboxBatch } from '../outbox/outbox.js';
import type { Counters } from '../pipeline/counters.js';
import { SinkRejectedError } from './errors.js';
import type { Sink } from './sink.js';

/** Options of a {@link Forwarder}. */
export interface ForwarderOptions {
  /** The pipeline's name, for dead letters and logs. */
  pipeline: string;
  outbox: Outbox;
  sink: Sink;
  /** Where refused batches go. */
  deadLetters: DeadLetterFile;
  counters: Counters;
  /** Label of the sink in dead letters. @default 'sink' */
  sinkName?: string;
  /** @default a silent logger */
  logger?: Logger;
}

/** Moves records from an outbox to a sink. */
export class Forwarder {
  readonly #outbox: Outbox;
  readonly #sink: Sink;
  readonly #deadLetters: DeadLetterFile;
  readonly #counters: Counters;
  readonly #pipeline: string;
  readonly #sinkName: string;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  readonly #reader = new FrameReader();
  #running: Promise<void> | undefined;

  constructor(options: ForwarderOptions) {
    this.#outbox = options.outbox;
    this.#sink = options.sink;
    this.#deadLetters = options.deadLetters;
    this.#counters = options.counters;
    this.#pipeline = options.pipeline;
    this.#sinkName = options.sinkName ?? 'sink';
    this.#logger = options.logger ?? pino({ level: 'silent' });
  }

  /** Starts forwarding (once). */
  start(): void {
    this.#running ??= this.#run().catch((error: unknown) => {
      this.#logger.error(
        { err: error, pipeline: this.#pipeline },
        'forwarder stopped on an unexpected error',
      );
    });
  }

  /**
   * Closes the outbox to new records and waits until everything in it was sent, or `timeoutMs`
   * passed (then the send in progress is abandoned). Resolves true when the outbox was emptied.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.start();
    this.#sink.closing();
    this.#outbox.close();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.#running, expired]);
    clearTimeout(timer);
    const drained = this.#outbox.depth === 0;
    if (!drained) {
      this.#abort.abort(new DOMException('the gateway is closing', 'AbortError'));
      await this.#running;
      if (this.#outbox.durable === true) {
        this.#logger.info(
          { pipeline: this.#pipeline, records: this.#outbox.depth, timeoutMs },
          'closing with records not sent upstream: they stay in the spool for the next start',
        );
      } else {
        this.#logger.warn(
          { pipeline: this.#pipeline, records: this.#outbox.depth, timeoutMs },
          'closing with records not sent upstream (in-memory outbox): they are lost',
        );
      }
    }
    return drained;
  }

  /** Stops at once: closes the outbox and abandons the send in progress. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.drain(0);
  }

  async #run(): Promise<void> {
    const outbox = this.#outbox;
    const { maxRecords, maxBytes, lingerMs } = this.#sink.batching;
    const signal = this.#abort.signal;
    for (;;) {
      if (signal.aborted) return;
      if (outbox.ready === 0 && outbox.closed) return;
      await outbox.waitForRecords(maxRecords, maxBytes, lingerMs);
      if (signal.aborted) return;
      const batch = outbox.take(maxRecords, maxBytes);
      if (batch === undefined) continue;
      try {
        await this.#sink.send(batch, signal);
        this.#counters.sent += batch.count;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof SinkRejectedError) {
          this.#counters.rejected += batch.count;
          this.#logger.error(
            {
              pipeline: this.#pipeline,
              status: error.status,
              body: error.body,
              records: batch.count,
            },
            'upstream refused a batch; its records go to the dead-letter file',
          );
          await this.#deadLetter(
            batch,
            `upstream refused the batch with HTTP ${error.status}: ${error.body}`,
          );
        } else {
          this.#logger.error(
            { err: error, pipeline: this.#pipeline },
            'sending a batch failed unexpectedly',
          );
          await this.#deadLetter(batch, `sending failed: ${(error as Error).message}`);
        }
      }
      outbox.ack(batch);
    }
  }

  async #deadLetter(batch: OutboxBatch, reason: string): Promise<void> {
    const reader = this.#reader.reset(batch.frame);
    while (reader.next()) {
      this.#deadLetters.add({
        pipeline: this.#pipeline,
        rule: this.#sinkName,
        reason,
        topic: reader.topic(),
        key: reader.key(),
        id: formatId(reader.idHigh, reader.idLow),
        payload: reader.payload(),
      });
      this.#counters.deadLetters++;
    }
    await this.#deadLetters.commit();
  }
}
