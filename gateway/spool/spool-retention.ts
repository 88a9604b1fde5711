/**
 * @module Which segments a spool keeps: it deletes those every reader acknowledged, and drops
 * the oldest ones when the byte budget (`drop-oldest`) or the age limit (`maxAgeMs`) says so,
 * counting for each reader the records it had not sent. The active segment is never removed.
 */
import { unlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Segment } from './spool-recovery.js';
import type { SpoolReader } from './spool-reader.js';
import type { SpoolWriter } from './spool-writer.js';

/** Options of {@link SpoolRetention}. */
export interface SpoolRetentionOptions {
  writer: SpoolWriter;
  /** The spool's readers (the array is shared: readers added later count too). */
  readers: readonly SpoolReader[];
  logger: Logger;
  maxBytes: number;
  maxAgeMs: number;
  /** Bytes held for upstream now. */
  bytes: () => number;
  /** Persists the readers' positions (after records were dropped under them). */
  saveCursors: () => void;
}

/** The segment retention of one spool. */
export class SpoolRetention {
  readonly #o: SpoolRetentionOptions;

  constructor(options: SpoolRetentionOptions) {
    this.#o = options;
  }

  /** The reader furthest behind (the smallest acknowledged position). */
  laggard(): SpoolReader | undefined {
    let laggard: SpoolReader | undefined;
    for (const reader of this.#o.readers) {
      if (laggard === undefined || reader.ackSeq < laggard.ackSeq) laggard = reader;
    }
    return laggard;
  }

  /** Deletes the segments every record of which is acknowledged (never the active one). */
  deleteAcknowledged(): void {
    const segments = this.#o.writer.segments;
    const laggard = this.laggard();
    if (laggard === undefined) return;
    while (segments.length > 1 && (segments[1] as Segment).first <= laggard.ackSeq) {
      for (const reader of this.#o.readers) if (reader.readIndex === 0) return;
      this.#removeOldest();
    }
  }

  /** `drop-oldest`: drops the oldest segments while the spool holds more than `maxBytes`. */
  enforceBudget(): void {
    let dropped = 0;
    while (this.#o.bytes() > this.#o.maxBytes) {
      const n = this.#dropOldest(false);
      if (n < 0) break;
      dropped += n;
    }
    if (dropped > 0) {
      let totalDropped = 0;
      for (const reader of this.#o.readers) totalDropped += reader.dropped;
      this.#o.logger.warn(
        { records: dropped, totalDropped, maxBytes: this.#o.maxBytes },
        'spool full: oldest records dropped (policy drop-oldest)',
      );
    }
  }

  /** Drops the segments last written more than `maxAgeMs` ago. */
  expire(): void {
    const limit = Date.now() - this.#o.maxAgeMs;
    const segments = this.#o.writer.segments;
    let expired = 0;
    while (segments.length > 1 && (segments[0] as Segment).writtenAt < limit) {
      expired += this.#dropOldest(true);
    }
    if (expired > 0) {
      this.#o.logger.warn(
        { records: expired, maxAgeMs: this.#o.maxAgeMs },
        'spool: records older than maxAgeMs dropped before they were sent',
      );
    }
  }

  #removeOldest(): void {
    const segment = this.#o.writer.segments.shift() as Segment;
    for (const reader of this.#o.readers) reader.oldestRemoved(segment);
    this.#o.writer.released(segment.size);
    try {
      unlinkSync(segment.path);
    } catch (error) {
      this.#o.logger.warn({ err: error, segment: segment.path }, 'spool: cannot delete a segment');
    }
  }

  /**
   * Drops the oldest segment (not the active one), counting for each reader the records in it
   * that reader had not taken (as dropped, or as expired when `expired`).
   * @returns how many records were dropped for all readers, or -1 when only the active segment
   *   is left.
   */
  #dropOldest(expired: boolean): number {
    const segments = this.#o.writer.segments;
    if (segments.length < 2) return -1;
    const end = (segments[1] as Segment).first;
    let total = 0;
    for (const reader of this.#o.readers) {
      const unsent = reader.skipOldest(end);
      if (unsent === 0) continue;
      if (expired) reader.expired += unsent;
      else reader.dropped += unsent;
      total += unsent;
      this.#o.logger.warn(
        { reader: reader.name, records: unsent, policy: expired ? 'maxAgeMs' : 'drop-oldest' },
        expired
          ? 'spool: records older than maxAgeMs dropped before this sink sent them'
          : 'spool full: oldest records dropped before this sink sent them (policy drop-oldest)',
      );
    }
    this.#removeOldest();
    this.#o.saveCursors();
    return total;
  }
}
