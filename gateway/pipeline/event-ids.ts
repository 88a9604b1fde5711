/**
 * @module Event ids: one gateway-wide increasing counter. It starts at the start time in
 * milliseconds × 1024, so ids keep increasing across restarts (and stay unique) as long as a run
 * averages fewer than 1024 events per millisecond of its lifetime — far above what one box
 * ingests — while staying below 2^53 (exact as a JS number) until the year 2248.
 */

/** Hands out event ids. */
export class EventIds {
  #next: number;

  constructor(start: number = Date.now() * 1024) {
    this.#next = start;
  }

  /** The next id. */
  next(): number {
    return this.#next++;
  }
}
