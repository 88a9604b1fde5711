/**
 * @module Retry delays for sinks: exponential backoff with full jitter (a random delay between 0
 * and min(max, initial · 2^attempt)), which spreads the retries of many gateways after an
 * upstream outage, `Retry-After` parsing, and the retry loop the NATS and MQTT sinks share.
 */

import type { Logger } from 'pino';
import type { CircuitBreaker } from './circuit-breaker.js';

/** Largest `Retry-After` honoured, so a bogus header cannot park a gateway for days. */
export const MAX_RETRY_AFTER_MS = 300_000;

/** The delay before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.random() * ceiling;
}

/**
 * Parses a `Retry-After` header (delta seconds or an HTTP date) into milliseconds from `now`,
 * capped at {@link MAX_RETRY_AFTER_MS}; undefined when absent or unparsable.
 */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) {
    ms = Number(trimmed) * 1000;
  } else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What {@link sendWithRetries} needs of a sink. */
export interface RetryOptions {
  breaker: CircuitBreaker;
  logger: Logger;
  initialDelayMs: number;
  maxDelayMs: number;
  /** Records in the batch (logged). */
  records: number;
  /** What failed, for the log line (`publishing a batch to JetStream`). */
  what: string;
  /** Aborts the retries (close, or the caller's signal). */
  stop: AbortSignal;
  /** Counts each failed attempt. */
  onFailure(): void;
}

/**
 * Runs `attempt` until it succeeds: each try passes the circuit breaker, each failure is counted,
 * logged (the first and every tenth at warn) and followed by a backoff delay, unless the breaker
 * opened (it then waits out its cool-down in `permit`). Rejects only when `stop` aborts.
 */
export async function sendWithRetries(
  attempt: () => Promise<void>,
  options: RetryOptions,
): Promise<void> {
  const { breaker, stop } = options;
  for (let tries = 0; ; tries++) {
    await breaker.permit(stop);
    try {
      await attempt();
      breaker.success();
      return;
    } catch (error) {
      stop.throwIfAborted();
      options.onFailure();
      const open = breaker.failure();
      const delay = backoffDelay(tries, options.initialDelayMs, options.maxDelayMs);
      options.logger[tries === 0 || tries % 10 === 9 ? 'warn' : 'debug'](
        { err: error, attempt: tries + 1, records: options.records, delayMs: Math.round(delay) },
        `${options.what} failed; retrying`,
      );
      if (!open) await sleep(delay, stop);
    }
  }
}
