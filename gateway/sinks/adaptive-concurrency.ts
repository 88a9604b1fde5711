/**
 * @module The forwarder's adaptive drain: how many batches may be in flight to a sink at once.
 * AIMD, as TCP congestion control: the limit grows by about one per round of sends (additive
 * increase, 1/limit per send) while sends succeed within `latencyTargetMs`, and is cut by
 * `decreaseFactor` (multiplicative decrease) on a failed attempt or a send slower than the
 * target — once per round, so that the batches already in flight when upstream slowed down do
 * not cut it again. It never leaves [1, maxInFlight]; `maxInFlight: 1` is one batch at a time.
 */
import { SinkOptionsError } from './errors.js';

/** Options of the adaptive drain (`sink.drain` in the configuration). */
export interface AdaptiveConcurrencyOptions {
  /** Most batches in flight to the sink at once; 1 sends one batch at a time. @default 4 */
  maxInFlight?: number;
  /** Batches in flight at start. @default 1 */
  initialInFlight?: number;
  /** A send (retries included) slower than this counts as a latency spike. @default 1000 */
  latencyTargetMs?: number;
  /** The limit is multiplied by this on a failure or a latency spike. @default 0.5 */
  decreaseFactor?: number;
}

/** {@link AdaptiveConcurrencyOptions} with every default filled. */
export interface ResolvedAdaptiveConcurrencyOptions {
  maxInFlight: number;
  initialInFlight: number;
  latencyTargetMs: number;
  decreaseFactor: number;
}

/** Defaults of {@link AdaptiveConcurrencyOptions}. */
export const DEFAULT_DRAIN = {
  maxInFlight: 4,
  initialInFlight: 1,
  latencyTargetMs: 1000,
  decreaseFactor: 0.5,
} as const;

/** Fills the defaults of {@link AdaptiveConcurrencyOptions} and validates them. */
export function resolveAdaptiveConcurrencyOptions(
  options: AdaptiveConcurrencyOptions = {},
): ResolvedAdaptiveConcurrencyOptions {
  const maxInFlight = options.maxInFlight ?? DEFAULT_DRAIN.maxInFlight;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > 1024) {
    throw new SinkOptionsError(
      `sink.maxInFlight: ${String(maxInFlight)} is not an integer from 1 to 1024 (1 sends one batch at a time)`,
    );
  }
  const initialInFlight = Math.min(
    options.initialInFlight ?? DEFAULT_DRAIN.initialInFlight,
    maxInFlight,
  );
  if (!Number.isInteger(initialInFlight) || initialInFlight < 1) {
    throw new SinkOptionsError(
      `sink.drain.initialInFlight: ${String(initialInFlight)} is not an integer ≥ 1`,
    );
  }
  const latencyTargetMs = options.latencyTargetMs ?? DEFAULT_DRAIN.latencyTargetMs;
  if (!Number.isFinite(latencyTargetMs) || latencyTargetMs < 1) {
    throw new SinkOptionsError(
      `sink.drain.latencyTargetMs: ${String(latencyTargetMs)} is not a number ≥ 1 (milliseconds)`,
    );
  }
  const decreaseFactor = options.decreaseFactor ?? DEFAULT_DRAIN.decreaseFactor;
  if (!(decreaseFactor > 0 && decreaseFactor < 1)) {
    throw new SinkOptionsError(
      `sink.drain.decreaseFactor: ${String(decreaseFactor)} is not in (0, 1) (0.5 halves the limit)`,
    );
  }
  return { maxInFlight, initialInFlight, latencyTargetMs, decreaseFactor };
}

/** The AIMD limit of batches in flight. */
export class AdaptiveConcurrency {
  readonly #o: ResolvedAdaptiveConcurrencyOptions;
  #limit: number;
  /** Sends started so far; a send's number tells whether it started after the last cut. */
  #started = 0;
  #cutAt = 0;
  /** Times the limit was cut. */
  decreases = 0;
  /** The highest limit reached. */
  peak: number;

  constructor(options?: AdaptiveConcurrencyOptions) {
    this.#o = resolveAdaptiveConcurrencyOptions(options);
    this.#limit = this.#o.initialInFlight;
    this.peak = Math.floor(this.#limit);
  }

  /** Batches that may be in flight now. */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  /** The most batches in flight allowed (`maxInFlight`). */
  get maxInFlight(): number {
    return this.#o.maxInFlight;
  }

  /** A send starts: returns its ticket for {@link done}. */
  start(): number {
    return ++this.#started;
  }

  /**
   * A send ended after `latencyMs`; `failed` when an attempt of it failed (it was retried).
   */
  done(ticket: number, latencyMs: number, failed: boolean): void {
    const o = this.#o;
    if (failed || latencyMs > o.latencyTargetMs) {
      // Once per round: sends that started before the last cut saw the old conditions.
      if (ticket <= this.#cutAt) return;
      this.#limit = Math.max(1, this.#limit * o.decreaseFactor);
      this.#cutAt = this.#started;
      this.decreases++;
      return;
    }
    if (this.#limit < o.maxInFlight) {
      this.#limit = Math.min(o.maxInFlight, this.#limit + 1 / Math.floor(this.#limit));
      if (this.limit > this.peak) this.peak = this.limit;
    }
  }
}
