/**
 * @module `NatsSink`: publishes each output record to NATS JetStream and waits for the stream's
 * acknowledgement (PubAck) of every record of the batch. The message body is the record as JSON
 * (`{"id","key","time","output","value"}`, one line of the file sink), the subject is built from
 * the record's output and key, and the `Nats-Msg-Id` header is the record's deterministic id
 * (prefixed per pipeline), so JetStream drops a replayed record within the stream's duplicate
 * window. A failed batch (no stream, no server, a timeout) is published again, whole, with backoff:
 * the records that had been stored come back as duplicates and are not stored twice.
 */
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { FrameReader } from '../../runtime/index.js';
import type { OutboxBatch } from '../outbox/outbox.js';
import { sendWithRetries } from './backoff.js';
import { recordRoutes } from './record-routes.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { SinkOptionsError } from './errors.js';
import { JsonBodyEncoder } from './json-body.js';
import type { Sink, SinkBatching } from './sink.js';

/** Options of a {@link NatsSink}. */
export interface NatsSinkOptions {
  /** NATS server URLs. @default ['nats://127.0.0.1:4222'] */
  servers?: string[];
  /** Subject of a record; `{output}` and `{key}` are replaced (dots in a key become `_`). @default 'sluice.{output}.{key}' */
  subject?: string;
  /** Prefix of every `Nats-Msg-Id` (the pipeline's name keeps ids of pipelines apart). @default '' */
  msgIdPrefix?: string;
  /** How long to wait for a batch's PubAcks. @default 10000 */
  timeoutMs?: number;
  /** @default 500 */
  maxRecords?: number;
  /** @default 1048576 */
  maxBytes?: number;
  /** @default 20 */
  lingerMs?: number;
  /** @default 100 */
  initialDelayMs?: number;
  /** @default 10000 */
  maxDelayMs?: number;
  /** Credentials. @default undefined */
  user?: string;
  /** @default undefined */
  pass?: string;
  /** The circuit breaker (see circuit-breaker.ts). @default its defaults */
  breaker?: CircuitBreakerOptions;
  /** @default a silent logger */
  logger?: Logger;
}

/** A {@link Sink} publishing to NATS JetStream with per-record acknowledgements. */
export class NatsSink implements Sink {
  readonly #servers: string[];
  readonly #subject: string;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #user: string | undefined;
  readonly #pass: string | undefined;
  readonly #batching: SinkBatching;
  readonly #logger: Logger;
  readonly #json = new JsonBodyEncoder();
  readonly #reader = new FrameReader();
  readonly #closed = new AbortController();
  #connection: Promise<NatsConnection> | undefined;
  #js: JetStreamClient | undefined;
  /** `headers()` of the NATS client, once it is loaded. */
  #headers: (() => MsgHdrs) | undefined;
  #failures = 0;
  /** Guards the attempts; in the stats. */
  readonly breaker: CircuitBreaker;
  #duplicates = 0;

  constructor(options: NatsSinkOptions = {}) {
    this.#servers = options.servers ?? ['nats://127.0.0.1:4222'];
    if (this.#servers.length === 0) {
      throw new SinkOptionsError('sink.servers: [] is empty (expected at least one nats:// URL)');
    }
    this.#subject = options.subject ?? 'sluice.{output}.{key}';
    this.#prefix = options.msgIdPrefix ?? '';
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#initialDelayMs = options.initialDelayMs ?? 100;
    this.#maxDelayMs = options.maxDelayMs ?? 10_000;
    this.#user = options.user;
    this.#pass = options.pass;
    this.#batching = {
      maxRecords: options.maxRecords ?? 500,
      maxBytes: options.maxBytes ?? 1_048_576,
      lingerMs: options.lingerMs ?? 20,
    };
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.breaker = new CircuitBreaker({ ...options.breaker, name: 'nats', logger: this.#logger });
  }

  get batching(): SinkBatching {
    return this.#batching;
  }

  /** Batch attempts that failed (and were retried). */
  get failures(): number {
    return this.#failures;
  }

  /** Records JetStream reported as duplicates (already stored: a replay). */
  get duplicates(): number {
    return this.#duplicates;
  }

  async send(batch: OutboxBatch, signal?: AbortSignal): Promise<void> {
    const lines = this.#json.encodeLines(batch.frame);
    const { names: subjects, ids } = recordRoutes(
      this.#reader.reset(batch.frame),
      this.#subject,
      token,
      this.#prefix,
    );
    const stop =
      signal === undefined ? this.#closed.signal : AbortSignal.any([signal, this.#closed.signal]);
    await sendWithRetries(() => this.#publish(subjects, ids, lines), {
      breaker: this.breaker,
      logger: this.#logger,
      initialDelayMs: this.#initialDelayMs,
      maxDelayMs: this.#maxDelayMs,
      records: batch.count,
      what: 'publishing a batch to JetStream',
      stop,
      onFailure: () => this.#failures++,
    });
  }

  async #publish(subjects: string[], ids: string[], lines: Uint8Array): Promise<void> {
    const js = await this.#client();
    const acks: Promise<PubAck>[] = [];
    let start = 0;
    for (let i = 0; i < subjects.length; i++) {
      const end = lines.indexOf(0x0a, start);
      const h = (this.#headers as () => MsgHdrs)();
      h.set('Nats-Msg-Id', ids[i] as string);
      acks.push(
        js.publish(subjects[i] as string, lines.subarray(start, end), {
          msgID: ids[i] as string,
          headers: h,
          timeout: this.#timeoutMs,
        }),
      );
      start = end + 1;
    }
    const results = await Promise.allSettled(acks);
    let failure: unknown;
    for (const result of results) {
      if (result.status === 'rejected') failure ??= result.reason;
      else if (result.value.duplicate) this.#duplicates++;
    }
    if (failure !== undefined) throw failure;
  }

  #client(): Promise<JetStreamClient> {
    if (this.#js !== undefined) return Promise.resolve(this.#js);
    // The NATS client (~12 MB resident) loads only when a NATS sink first sends.
    const modules = Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
    this.#connection ??= modules.then(([{ connect }]) =>
      connect({
        servers: this.#servers,
        maxReconnectAttempts: -1,
        ...(this.#user === undefined ? {} : { user: this.#user }),
        ...(this.#pass === undefined ? {} : { pass: this.#pass }),
      }),
    );
    return Promise.all([this.#connection, modules]).then(
      ([nc, [{ headers }, { jetstream }]]) => {
        this.#headers = headers;
        this.#js = jetstream(nc, { timeout: this.#timeoutMs });
        return this.#js;
      },
      (error: unknown) => {
        this.#connection = undefined;
        throw error;
      },
    );
  }

  closing(): void {
    // Nothing to wind down before the last batches: the connection closes in close().
  }

  async close(): Promise<void> {
    this.#closed.abort(new DOMException('the sink was closed', 'AbortError'));
    const connection = this.#connection;
    this.#connection = undefined;
    this.#js = undefined;
    if (connection !== undefined) {
      const nc = await connection.catch(() => undefined);
      await nc?.close().catch(() => undefined);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A subject token: no dots, spaces or wildcards (they would change the subject's shape). */
function token(text: string): string {
  return text === '' ? '_' : text.replace(/[.\s*>]/g, '_');
}
