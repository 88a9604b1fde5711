/**
 * @module A circuit breaker per sink. After `failureThreshold` consecutive failed attempts the
 * breaker *opens*: no attempt is made for a cool-down that doubles with each consecutive
 * opening (with jitter, up to `maxCooldownMs`). Then it is *half-open*: one attempt (the probe,
 * the same batch) goes out; success closes the breaker, failure opens it again for longer.
 * Without it a sink down for an hour would still be hit by a request every `retry.maxDelayMs`;
 * with it the requests while down grow only logarithmically with the outage, then one per
 * `maxCooldownMs`. Transitions are logged; the state is in `Gateway.stats()`.
 *
 * Sinks call {@link CircuitBreaker.permit} before each attempt, {@link CircuitBreaker.success}
 * after one upstream answered (accepted, or refused for good: upstream is up), and
 * {@link CircuitBreaker.failure} after one that failed (network error, timeout, 5xx, 408, 429).
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { sleep } from './backoff.js';
import { SinkOptionsError } from './errors.js';

/** `closed`: attempts go out; `open`: none until the cool-down ends; `half-open`: one probe. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failed attempts that open the breaker; 0 disables it. @default 5 */
  failureThreshold?: number;
  /** The first cool-down. @default 1000 */
  cooldownMs?: number;
  /** The longest cool-down. @default 60000 */
  maxCooldownMs?: number;
  /** Name in the log lines (the sink). @default 'sink' */
  name?: string;
  /** @default a silent logger */
  logger?: Logger;
}

/** {@link CircuitBreakerOptions} with the defaults filled. */
export interface ResolvedCircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
  name: string;
  logger: Logger;
}

/** The breaker's figures for the stats. */
export interface BreakerStats {
  state: BreakerState;
  /** Consecutive failed attempts (0 after a success). */
  failures: number;
  /** How many times the breaker opened. */
  opened: number;
  /** Milliseconds until the open breaker lets a probe through (0 unless open). */
  retryInMs: number;
}

/** Fills the defaults of {@link CircuitBreakerOptions} and validates them. */
export function resolveCircuitBreakerOptions(
  options: CircuitBreakerOptions = {},
): ResolvedCircuitBreakerOptions {
  const failureThreshold = options.failureThreshold ?? 5;
  const cooldownMs = options.cooldownMs ?? 1000;
  const maxCooldownMs = options.maxCooldownMs ?? 60_000;
  if (!Number.isInteger(failureThreshold) || failureThreshold < 0) {
    throw new SinkOptionsError(
      `sink.breaker.failureThreshold: ${failureThreshold} is not a whole number ≥ 0 (0 disables the breaker)`,
    );
  }
  if (!Number.isFinite(cooldownMs) || cooldownMs < 1) {
    throw new SinkOptionsError(`sink.breaker.cooldownMs: ${cooldownMs} is not a positive number`);
  }
  if (!Number.isFinite(maxCooldownMs) || maxCooldownMs < cooldownMs) {
    throw new SinkOptionsError(
      `sink.breaker.maxCooldownMs: ${maxCooldownMs} is below breaker.cooldownMs (${cooldownMs}); raise it`,
    );
  }
  return {
    failureThreshold,
    cooldownMs,
    maxCooldownMs,
    name: options.name ?? 'sink',
    logger: options.logger ?? pino({ level: 'silent' }),
  };
}

/** A circuit breaker guarding one sink's attempts. */
export class CircuitBreaker {
  readonly #options: ResolvedCircuitBreakerOptions;
  #state: BreakerState = 'closed';
  #failures = 0;
  #opened = 0;
  /** Consecutive openings without a success in between (grows the cool-down). */
  #streak = 0;
  #openUntil = 0;
  #openedAt = 0;
  /** A half-open probe is in flight. */
  #probing = false;
  readonly #waiters = new Set<() => void>();

  constructor(options: CircuitBreakerOptions = {}) {
    this.#options = resolveCircuitBreakerOptions(options);
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Consecutive failed attempts. */
  get failures(): number {
    return this.#failures;
  }

  /** How many times the breaker opened. */
  get opened(): number {
    return this.#opened;
  }

  stats(): BreakerStats {
    return {
      state: this.#state,
      failures: this.#failures,
      opened: this.#opened,
      retryInMs: this.#state === 'open' ? Math.max(0, this.#openUntil - Date.now()) : 0,
    };
  }

  /**
   * Resolves when an attempt may go out: at once unless open; when open, at the end of the
   * cool-down, the breaker then half-open (this attempt is the probe). Rejects when `signal`
   * aborts.
   */
  async permit(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.#state === 'open') {
        const wait = this.#openUntil - Date.now();
        if (wait > 0) {
          await sleep(wait, signal);
          continue;
        }
        this.#state = 'half-open';
        this.#probing = false;
        this.#options.logger.info(
          { sink: this.#options.name, failures: this.#failures },
          'circuit breaker half-open: probing upstream with one batch',
        );
      }
      if (this.#state !== 'half-open') break;
      // One probe at a time, however many batches are in flight (the adaptive drain): the
      // others wait for its outcome.
      if (!this.#probing) {
        this.#probing = true;
        break;
      }
      await this.#settled(signal);
    }
    signal?.throwIfAborted();
  }

  /** Resolves when the probe in flight succeeded or failed (or rejects when `signal` aborts). */
  #settled(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(done);
        reject(signal?.reason);
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal?.aborted === true) {
        reject(signal.reason);
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(done);
    });
  }

  #wake(): void {
    this.#probing = false;
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const done of waiters) done();
  }

  /** An attempt reached upstream (accepted, or refused for good): the breaker closes. */
  success(): void {
    if (this.#state !== 'closed') {
      this.#options.logger.info(
        {
          sink: this.#options.name,
          failures: this.#failures,
          downMs: Date.now() - this.#openedAt,
        },
        'circuit breaker closed: upstream answers again',
      );
    }
    this.#state = 'closed';
    this.#failures = 0;
    this.#streak = 0;
    this.#wake();
  }

  /**
   * An attempt failed. Returns true when the breaker is (now) open: the caller skips its own
   * backoff delay, {@link permit} waits for the cool-down. `minDelayMs` (a `Retry-After`)
   * lengthens the cool-down to at least that.
   */
  failure(minDelayMs = 0): boolean {
    this.#failures++;
    // Whatever happens below, waiting probes look at the state again.
    queueMicrotask(() => this.#wake());
    const { failureThreshold, cooldownMs, maxCooldownMs, logger, name } = this.#options;
    if (failureThreshold === 0) return false;
    if (this.#state === 'half-open' || this.#failures >= failureThreshold) {
      const ceiling = Math.min(maxCooldownMs, cooldownMs * 2 ** Math.min(this.#streak, 30));
      // Equal jitter: at least half the ceiling, so the cool-down really grows.
      const cooldown = Math.max(minDelayMs, ceiling / 2 + (Math.random() * ceiling) / 2);
      if (this.#state === 'closed') this.#openedAt = Date.now();
      this.#state = 'open';
      this.#streak++;
      this.#opened++;
      this.#openUntil = Date.now() + cooldown;
      logger.warn(
        { sink: name, failures: this.#failures, cooldownMs: Math.round(cooldown) },
        'circuit breaker open: no requests upstream until the cool-down ends',
      );
      return true;
    }
    return false;
  }
}
