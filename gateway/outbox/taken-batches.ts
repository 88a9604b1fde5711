/**
 * @module The batches an outbox reader handed to its sink and that are not acknowledged yet, in
 * the order taken. With several batches in flight (`maxInFlight`) upstream may acknowledge them
 * out of order; a reader's acknowledged position moves only past the oldest batches that are all
 * acknowledged (a batch acknowledged before an older one waits for it).
 */
import type { OutboxBatch } from './outbox.js';

/** Batches in flight, each with what its reader needs to move its position past it. */
export class TakenBatches<T extends { readonly batch: OutboxBatch }> {
  readonly #entries: { taken: T; acked: boolean }[] = [];

  /** A batch was handed out. */
  push(taken: T): void {
    this.#entries.push({ taken, acked: false });
  }

  /**
   * Marks `batch` acknowledged; returns the oldest batches now all acknowledged, in order, no
   * longer in flight (none when an older batch is still unacknowledged, or `batch` is unknown
   * or already acknowledged).
   */
  ack(batch: OutboxBatch): T[] {
    const entry = this.#entries.find((e) => e.taken.batch === batch);
    if (entry === undefined || entry.acked) return [];
    entry.acked = true;
    const released: T[] = [];
    while (this.#entries[0]?.acked === true) {
      released.push((this.#entries.shift() as { taken: T }).taken);
    }
    return released;
  }
}
