/**
 * @module `HttpSink`: posts batches of output records upstream (see http-post.ts), as JSON (built by
 * byte concatenation) or CBOR, with an `Idempotency-Key` (a hash of the batch's record ids, so a
 * retried or replayed batch carries the same key). Network errors, timeouts, 5xx, 408 and 429
 * are retried forever with exponential backoff and full jitter, honouring `Retry-After`; any
 * other non-2xx refuses the batch for good (`SinkRejectedError`).
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { FrameReader } from '../../runtime/index.js';
import type { HttpSinkConfig } from '../config/types.js';
import type { OutboxBatch } from '../outbox/outbox.js';
import { backoffDelay, parseRetryAfter, sleep } from './backoff.js';
import { CborBodyEncoder } from './cbor-body.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js';
import { SinkOptionsError, SinkRejectedError } from './errors.js';
import { createHttpPoster, type HttpPoster } from './http-post.js';
import { JsonBodyEncoder } from './json-body.js';
import type { Sink, SinkBatching } from './sink.js';

/** Options of an {@link HttpSink}. */
export interface HttpSinkOptions {
  /** Where batches are POSTed. */
  url: string;
  /** Body encoding. @default 'json' */
  format?: 'json' | 'cbor';
  /** Most records per request. @default 500 */
  maxRecords?: number;
  /** Most record bytes per request. @default 1048576 */
  maxBytes?: number;
  /** How long the oldest record may wait for a fuller batch. @default 100 */
  lingerMs?: number;
  /** Timeout of one request. @default 10000 */
  timeoutMs?: number;
  /** Extra request headers. @default {} */
  headers?: Record<string, string>;
  retry?: {
    /** First backoff ceiling. @default 100 */
    initialDelayMs?: number;
    /** Backoff ceiling. @default 10000 */
    maxDelayMs?: number;
  };
  /** The circuit breaker (see circuit-breaker.ts). @default its defaults */
  breaker?: CircuitBreakerOptions;
  /** @default a silent logger */
  logger?: Logger;
}

interface ResolvedHttpSinkOptions {
  url: string;
  format: 'json' | 'cbor';
  maxRecords: number;
  maxBytes: number;
  lingerMs: number;
  timeoutMs: number;
  headers: Record<string, string>;
  initialDelayMs: number;
  maxDelayMs: number;
  logger: Logger;
}

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < (allowZero ? 0 : 1)) {
    throw new SinkOptionsError(
      `sink.${name}: ${String(value)} is not a ${allowZero ? 'non-negative' : 'positive'} number`,
    );
  }
  return value;
}

/** Fills the defaults of {@link HttpSinkOptions} and validates them. */
export function resolveHttpSinkOptions(options: HttpSinkOptions): ResolvedHttpSinkOptions {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (error) {
    throw new SinkOptionsError(
      `sink.url: "${options.url}" is not a URL (expected http:// or https://)`,
      {
        cause: error,
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SinkOptionsError(
      `sink.url: "${options.url}" is not an HTTP URL (expected http:// or https://)`,
    );
  }
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'cbor') {
    throw new SinkOptionsError(
      `sink.format: "${String(format)}" is not a body format (expected json or cbor)`,
    );
  }
  const initialDelayMs = positive('retry.initialDelayMs', options.retry?.initialDelayMs ?? 100);
  const maxDelayMs = positive('retry.maxDelayMs', options.retry?.maxDelayMs ?? 10_000);
  if (maxDelayMs < initialDelayMs) {
    throw new SinkOptionsError(
      `sink.retry.maxDelayMs: ${maxDelayMs} is below retry.initialDelayMs (${initialDelayMs}); raise it`,
    );
  }
  return {
    url: url.href,
    format,
    maxRecords: positive('maxRecords', options.maxRecords ?? 500),
    maxBytes: positive('maxBytes', options.maxBytes ?? 1_048_576),
    lingerMs: positive('lingerMs', options.lingerMs ?? 100, true),
    timeoutMs: positive('timeoutMs', options.timeoutMs ?? 10_000),
    headers: { ...(options.headers ?? {}) },
    initialDelayMs,
    maxDelayMs,
    logger: options.logger ?? pino({ level: 'silent' }),
  };
}

/** Options of an {@link HttpSink} from the `sink` section of a pipeline's configuration. */
export function httpSinkOptionsFromConfig(
  config: HttpSinkConfig,
  logger?: Logger,
): HttpSinkOptions {
  return {
    url: config.url,
    format: config.format,
    maxRecords: config.maxRecords,
    maxBytes: config.maxBytes,
    lingerMs: config.lingerMs,
    timeoutMs: config.timeoutMs,
    headers: config.headers,
    retry: { initialDelayMs: config.retry.initialDelayMs, maxDelayMs: config.retry.maxDelayMs },
    breaker: { ...config.breaker },
    ...(logger === undefined ? {} : { logger }),
  };
}

/** Statuses worth retrying: the request timed out, was rate limited, or upstream failed. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A {@link Sink} that POSTs batches to an HTTP(S) endpoint. */
export class HttpSink implements Sink {
  readonly #options: ResolvedHttpSinkOptions;
  readonly #batching: SinkBatching;
  readonly #json = new JsonBodyEncoder();
  readonly #cbor = new CborBodyEncoder();
  readonly #reader = new FrameReader();
  readonly #closed = new AbortController();
  readonly #logger: Logger;
  #requests = 0;
  #failures = 0;
  #closing = false;
  #poster: Promise<HttpPoster> | undefined;
  /** Guards the attempts; in the stats. */
  readonly breaker: CircuitBreaker;

  constructor(options: HttpSinkOptions) {
    this.#options = resolveHttpSinkOptions(options);
    const { maxRecords, maxBytes, lingerMs } = this.#options;
    this.#batching = { maxRecords, maxBytes, lingerMs };
    this.#logger = this.#options.logger;
    this.breaker = new CircuitBreaker({
      ...options.breaker,
      name: 'http',
      logger: this.#logger,
    });
  }

  get batching(): SinkBatching {
    return this.#batching;
  }

  /** Requests made (retries included). */
  get requests(): number {
    return this.#requests;
  }

  /** Requests that failed (network error, timeout or a non-2xx answer). */
  get failures(): number {
    return this.#failures;
  }

  async send(batch: OutboxBatch, signal?: AbortSignal): Promise<void> {
    const options = this.#options;
    const body =
      options.format === 'json' ? this.#json.encode(batch.frame) : this.#cbor.encode(batch.frame);
    const headers: Record<string, string> = {
      ...options.headers,
      'content-type': options.format === 'json' ? 'application/json' : 'application/cbor',
      'idempotency-key': await this.#idempotencyKey(batch.frame),
    };
    // The last batches close their connection rather than leave an idle keep-alive socket.
    if (this.#closing) headers['connection'] = 'close';
    const poster = await (this.#poster ??= createHttpPoster());
    const stop =
      signal === undefined ? this.#closed.signal : AbortSignal.any([signal, this.#closed.signal]);
    const breaker = this.breaker;
    for (let attempt = 0; ; attempt++) {
      await breaker.permit(stop);
      let retryAfter: number | undefined;
      let failure: string;
      try {
        this.#requests++;
        const response = await poster.post(
          options.url,
          headers,
          body,
          AbortSignal.any([stop, AbortSignal.timeout(options.timeoutMs)]),
        );
        if (response.status >= 200 && response.status < 300) {
          breaker.success();
          if (attempt > 0) {
            this.#logger.info(
              { url: options.url, attempts: attempt + 1 },
              'upstream accepted the batch again',
            );
          }
          return;
        }
        const excerpt = response.body.slice(0, 512);
        if (!isRetryable(response.status)) {
          this.#failures++;
          // Upstream is up and answering: a refusal is about the batch, not the sink.
          breaker.success();
          throw new SinkRejectedError(
            response.status,
            excerpt,
            `upstream ${options.url} refused a batch of ${batch.count} records with HTTP ${response.status}: ${excerpt}`,
          );
        }
        retryAfter = parseRetryAfter(response.retryAfter);
        failure = `HTTP ${response.status}`;
      } catch (error) {
        if (error instanceof SinkRejectedError) throw error;
        stop.throwIfAborted();
        failure =
          (error as Error).name === 'TimeoutError'
            ? `timed out after ${options.timeoutMs} ms`
            : describe(error);
      }
      this.#failures++;
      const open = breaker.failure(retryAfter);
      const delay = retryAfter ?? backoffDelay(attempt, options.initialDelayMs, options.maxDelayMs);
      const level = attempt === 0 || attempt % 10 === 9 ? 'warn' : 'debug';
      this.#logger[level](
        {
          url: options.url,
          attempt: attempt + 1,
          records: batch.count,
          delayMs: Math.round(delay),
          failure,
        },
        'upstream send failed; retrying',
      );
      // An open breaker waits out its cool-down in `permit`.
      if (!open) await sleep(delay, stop);
    }
  }

  async #idempotencyKey(frame: Uint8Array): Promise<string> {
    const reader = this.#reader.reset(frame);
    const ids = new Uint8Array(reader.count * 8);
    let pos = 0;
    while (reader.next()) {
      const start = reader.recordStart + 16;
      ids.set(frame.subarray(start, start + 8), pos);
      pos += 8;
    }
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', ids));
    let key = '';
    for (let i = 0; i < 16; i++) key += (digest[i] as number).toString(16).padStart(2, '0');
    return key;
  }

  closing(): void {
    this.#closing = true;
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#closed.abort(new DOMException('the sink was closed', 'AbortError'));
    const poster = this.#poster;
    this.#poster = undefined;
    if (poster !== undefined) (await poster).close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code !== undefined) return `${(error as Error).message} (${cause.code})`;
  return (error as Error).message ?? String(error);
}
