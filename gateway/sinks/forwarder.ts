/**
 * @module The forwarder of one sink of a pipeline: takes batches through its own reader of the
 * pipeline's outbox as the sink wants them cut, sends them — several at once when the sink keeps
 * up (the adaptive drain, adaptive-concurrency.ts) — and acknowledges them in the outbox in the
 * order they were taken, once upstream accepted them (a batch that finishes early waits for the
 * older ones). While batches are retried nothing more is taken past the in-flight limit, so this
 * sink's backlog grows; once the outbox's bound is reached the pipeline stops committing: that
 * is how a slow upstream slows ingest down. A batch upstream refuses for good goes to the
 * dead-letter file.
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { FrameReader } from '../../runtime/index.js';
import type { DeadLetterFile } from '../dead-letter/dead-letter-file.js';
import { formatId } from '../dead-letter/dead-letter-file.js';
import type { Outbox, OutboxBatch, OutboxReader } from '../outbox/outbox.js';
import type { Counters } from '../pipeline/counters.js';
import {
  AdaptiveConcurrency,
  DEFAULT_DRAIN,
  type AdaptiveConcurrencyOptions,
} from './adaptive-concurrency.js';
import { SinkRejectedError } from './errors.js';
import type { Sink } from './sink.js';

/** Options of a {@link Forwarder}. */
export interface ForwarderOptions {
  /** The pipeline's name, for dead letters and logs. */
  pipeline: string;
  outbox: Outbox;
  /** The reader this forwarder consumes. @default outbox.reader(sinkName) */
  reader?: OutboxReader;
  sink: Sink;
  /** Where refused batches go. */
  deadLetters: DeadLetterFile;
  counters: Counters;
  /** The sink's name, in dead letters (`sink:<name>`), logs and stats. @default 'sink' */
  sinkName?: string;
  /** The adaptive drain (batches in flight). @default up to 4 in flight, see DEFAULT_DRAIN */
  drain?: AdaptiveConcurrencyOptions;
  /** @default a silent logger */
  logger?: Logger;
}

/** A batch sent and not yet acknowledged in the outbox. */
interface InFlight {
  batch: OutboxBatch;
  /** The send ended (accepted, or dead-lettered). */
  done: boolean;
  /** The send was abandoned (closing): the batch stays in the outbox. */
  abandoned: boolean;
}

/** Moves records from an outbox reader to a sink. */
export class Forwarder {
  readonly #outbox: Outbox;
  readonly #outboxReader: OutboxReader;
  readonly #sink: Sink;
  readonly #deadLetters: DeadLetterFile;
  readonly #counters: Counters;
  readonly #pipeline: string;
  readonly #sinkName: string;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  readonly #reader = new FrameReader();
  readonly #concurrency: AdaptiveConcurrency;
  readonly #inflight: InFlight[] = [];
  readonly #sends = new Set<Promise<void>>();
  #slot: (() => void) | undefined;
  #running: Promise<void> | undefined;
  /** Records this sink's upstream accepted. */
  sent = 0;
  /** Records this sink's upstream refused for good (dead-lettered). */
  rejected = 0;

  constructor(options: ForwarderOptions) {
    this.#outbox = options.outbox;
    this.#sink = options.sink;
    this.#deadLetters = options.deadLetters;
    this.#counters = options.counters;
    this.#pipeline = options.pipeline;
    this.#sinkName = options.sinkName ?? 'sink';
    this.#outboxReader = options.reader ?? options.outbox.reader(this.#sinkName);
    const limit = options.sink.maxConcurrentSends;
    const drain = options.drain ?? {};
    this.#concurrency = new AdaptiveConcurrency(
      limit === undefined
        ? drain
        : {
            ...drain,
            maxInFlight: Math.min(limit, drain.maxInFlight ?? DEFAULT_DRAIN.maxInFlight),
          },
    );
    this.#logger = options.logger ?? pino({ level: 'silent' });
  }

  /** The sink's name. */
  get name(): string {
    return this.#sinkName;
  }
  /** The outbox reader this forwarder consumes. */
  get reader(): OutboxReader {
    return this.#outboxReader;
  }
  /** The sink. */
  get sink(): Sink {
    return this.#sink;
  }
  /** Batches in flight to the sink now. */
  get inFlight(): number {
    return this.#inflight.length;
  }
  /** The adaptive drain's limit of batches in flight now. */
  get concurrency(): number {
    return this.#concurrency.limit;
  }
  /** The highest limit of batches in flight reached. */
  get peakConcurrency(): number {
    return this.#concurrency.peak;
  }
  /** Times the adaptive drain cut the limit (a failure or a latency spike). */
  get concurrencyDecreases(): number {
    return this.#concurrency.decreases;
  }

  /** Starts forwarding (once). */
  start(): void {
    this.#running ??= this.#run().catch((error: unknown) => {
      this.#logger.error(
        { err: error, pipeline: this.#pipeline, sink: this.#sinkName },
        'forwarder stopped on an unexpected error',
      );
    });
  }

  /**
   * Closes the outbox to new records and waits until everything in it was sent by this sink, or
   * `timeoutMs` passed (then the sends in progress are abandoned). Resolves true when this
   * sink's backlog was emptied.
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
    const reader = this.#outboxReader;
    const drained = reader.depth === 0;
    if (!drained) {
      this.#abort.abort(new DOMException('the gateway is closing', 'AbortError'));
      await this.#running;
      const fields = {
        pipeline: this.#pipeline,
        sink: this.#sinkName,
        records: reader.depth,
        timeoutMs,
      };
      if (this.#outbox.durable === true) {
        this.#logger.info(
          fields,
          'closing with records not sent upstream: they stay in the spool for the next start',
        );
      } else {
        this.#logger.warn(
          fields,
          'closing with records not sent upstream (in-memory outbox): they are lost',
        );
      }
    }
    return drained;
  }

  /** Stops at once: closes the outbox and abandons the sends in progress. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.drain(0);
  }

  async #run(): Promise<void> {
    const reader = this.#outboxReader;
    const { maxRecords, maxBytes, lingerMs } = this.#sink.batching;
    const signal = this.#abort.signal;
    for (;;) {
      if (signal.aborted) break;
      if (this.#inflight.length >= this.#concurrency.limit) {
        await new Promise<void>((resolve) => {
          this.#slot = resolve;
        });
        continue;
      }
      if (reader.ready === 0 && reader.closed) break;
      await reader.waitForRecords(maxRecords, maxBytes, lingerMs);
      if (signal.aborted) break;
      const batch = reader.take(maxRecords, maxBytes);
      if (batch === undefined) continue;
      this.#launch(batch, signal);
    }
    while (this.#sends.size > 0) await Promise.all(this.#sends);
  }

  /** Sends `batch` in the background; acknowledges it, in order, once it is done. */
  #launch(batch: OutboxBatch, signal: AbortSignal): void {
    const entry: InFlight = { batch, done: false, abandoned: false };
    this.#inflight.push(entry);
    const ticket = this.#concurrency.start();
    const started = performance.now();
    const failuresBefore = this.#sink.failures ?? 0;
    const send = this.#send(batch, signal).then((outcome) => {
      this.#sends.delete(send);
      if (outcome === 'abandoned') entry.abandoned = true;
      else {
        const failed = (this.#sink.failures ?? 0) > failuresBefore;
        this.#concurrency.done(ticket, performance.now() - started, failed);
      }
      entry.done = true;
      const inflight = this.#inflight;
      while (inflight.length > 0 && (inflight[0] as InFlight).done) {
        const first = inflight.shift() as InFlight;
        // An abandoned batch stays in the outbox (and holds the later ones back with it).
        if (!first.abandoned) this.#outboxReader.ack(first.batch);
      }
      const slot = this.#slot;
      this.#slot = undefined;
      slot?.();
    });
    this.#sends.add(send);
  }

  async #send(batch: OutboxBatch, signal: AbortSignal): Promise<'sent' | 'refused' | 'abandoned'> {
    try {
      await this.#sink.send(batch, signal);
      this.#counters.sent += batch.count;
      this.sent += batch.count;
      return 'sent';
    } catch (error) {
      if (signal.aborted) return 'abandoned';
      try {
        await this.#refused(batch, error);
      } catch (failure) {
        // The batch can go neither upstream nor to the dead-letter file: keep it and stop.
        this.#logger.error(
          { err: failure, pipeline: this.#pipeline, sink: this.#sinkName },
          'forwarder stopped: a refused batch could not be written to the dead-letter file',
        );
        this.#abort.abort(failure);
        return 'abandoned';
      }
      return 'refused';
    }
  }

  async #refused(batch: OutboxBatch, error: unknown): Promise<void> {
    if (error instanceof SinkRejectedError) {
      this.#counters.rejected += batch.count;
      this.rejected += batch.count;
      this.#logger.error(
        {
          pipeline: this.#pipeline,
          sink: this.#sinkName,
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
        { err: error, pipeline: this.#pipeline, sink: this.#sinkName },
        'sending a batch failed unexpectedly',
      );
      await this.#deadLetter(batch, `sending failed: ${(error as Error).message}`);
    }
  }

  async #deadLetter(batch: OutboxBatch, reason: string): Promise<void> {
    const reader = this.#reader.reset(batch.frame);
    while (reader.next()) {
      this.#deadLetters.add({
        pipeline: this.#pipeline,
        rule: `sink:${this.#sinkName}`,
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
