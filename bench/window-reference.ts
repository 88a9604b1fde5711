/**
 * @module The offline computation the sensor-window results are checked against: per device,
 * count/sum/min/max/avg of valid temperatures per tumbling event-time window, summed in
 * publish order (the order the rule sees per device), so the results must match bit for bit.
 */

/** One window result, as the `window-stats` rule emits it. */
export interface WindowResult {
  key: string;
  start: number;
  end: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  avg: number;
}

/** Accumulates readings into tumbling windows per device. */
export class WindowReference {
  readonly #windowMs: number;
  readonly #windows = new Map<string, WindowResult>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Adds one valid reading. */
  add(key: string, ts: number, value: number): void {
    const start = ts - (((ts % this.#windowMs) + this.#windowMs) % this.#windowMs);
    const id = `${key}@${start}`;
    const window = this.#windows.get(id);
    if (window === undefined) {
      this.#windows.set(id, {
        key,
        start,
        end: start + this.#windowMs,
        count: 1,
        sum: value,
        min: value,
        max: value,
        avg: value,
      });
      return;
    }
    window.count += 1;
    window.sum += value;
    if (value < window.min) window.min = value;
    if (value > window.max) window.max = value;
    window.avg = window.sum / window.count;
  }

  /** Every window, keyed by `key@start`. */
  results(): Map<string, WindowResult> {
    return this.#windows;
  }
}

/** The differences between expected and received window results (empty when they match exactly). */
export function compareWindows(
  expected: Map<string, WindowResult>,
  received: readonly WindowResult[],
): {
  missing: number;
  unexpected: number;
  different: number;
  duplicates: number;
  examples: string[];
} {
  const seen = new Map<string, WindowResult>();
  let unexpected = 0;
  let different = 0;
  let duplicates = 0;
  const examples: string[] = [];
  for (const result of received) {
    const id = `${result.key}@${result.start}`;
    if (seen.has(id)) {
      duplicates += 1;
      continue;
    }
    seen.set(id, result);
    const want = expected.get(id);
    if (want === undefined) {
      unexpected += 1;
      if (examples.length < 5) examples.push(`unexpected ${JSON.stringify(result)}`);
      continue;
    }
    if (
      want.end !== result.end ||
      want.count !== result.count ||
      want.sum !== result.sum ||
      want.min !== result.min ||
      want.max !== result.max ||
      want.avg !== result.avg
    ) {
      different += 1;
      if (examples.length < 5)
        examples.push(`expected ${JSON.stringify(want)} got ${JSON.stringify(result)}`);
    }
  }
  let missing = 0;
  for (const id of expected.keys()) {
    if (!seen.has(id)) {
      missing += 1;
      if (examples.length < 5) examples.push(`missing ${id}`);
    }
  }
  return { missing, unexpected, different, duplicates, examples };
}
