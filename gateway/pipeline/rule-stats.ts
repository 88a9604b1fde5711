/**
 * @module Per-rule figures of one position in a pipeline's rule chain: plain numeric fields
 * updated once per rule call (never per event), and a ring of the latest batch durations from
 * which the metrics endpoint computes quantiles when scraped. Nothing here allocates on the hot
 * path; labels and text are built only at scrape time.
 */

/** Batch durations kept for quantiles (the latest ones; older ones are overwritten). */
export const RULE_LATENCY_SAMPLES = 1024;

/** The figures of one rule position of a pipeline, since the gateway started. */
export class RuleStats {
  /** Calls of `process`, `tick` and `flush` (each retry of a single event counts too). */
  calls = 0;
  /** Records passed to `process`. */
  eventsIn = 0;
  /** Records the rule returned (from `process`, `tick` and `flush`). */
  eventsOut = 0;
  /** Total wall time inside the rule's calls, in milliseconds (≈ CPU time: calls are synchronous). */
  callMs = 0;
  /** Restarts of instances this position held before a hot swap (the current one's are on it). */
  restartsBefore = 0;
  /** Failed calls by error code (`RULE_TRAP`, `RULE_OUTPUT_INVALID`, …); rare, so a map. */
  readonly errors = new Map<string, number>();
  /** Batches sampled for the latency quantiles (every `process` call on a batch, retries excluded). */
  sampled = 0;
  /** Total duration of the sampled calls, in milliseconds. */
  sampledMs = 0;
  readonly #samples = new Float64Array(RULE_LATENCY_SAMPLES);
  #next = 0;
  #filled = 0;

  /** Records one batch's `process` duration (ms) for the quantiles. */
  sample(ms: number): void {
    this.sampled++;
    this.sampledMs += ms;
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % RULE_LATENCY_SAMPLES;
    if (this.#filled < RULE_LATENCY_SAMPLES) this.#filled++;
  }

  /** Counts a failed call. */
  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /**
   * The `q` quantiles (0…1, ascending) of the latest batch durations, in milliseconds (nearest
   * rank); zeros when no batch ran yet. Allocates: call it at scrape time only.
   */
  quantiles(q: readonly number[]): number[] {
    const n = this.#filled;
    if (n === 0) return q.map(() => 0);
    const sorted = this.#samples.slice(0, n).sort();
    return q.map((p) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number);
  }
}
